import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { Batcher, textEntry, type Batch } from './batcher.js'
import type { Client } from './client.js'
import { serverError } from './errors.js'
import { RETRY_STATUSES, retryDelayMs } from './retry.js'

// `logagg send`: stdin to POST /logs in NDJSON batches. Lines are NDJSON
// entries ({service, timestamp, message}, or any JSON with --service-field
// and friends, which the server maps), or, with --service, plain text, one
// entry per line stamped with the time it is read. One batch in flight at a
// time; 429 and 503 are retried. Entries the server rejects are reported by
// input line; the others in their batch are stored.

export interface SendOptions {
  /** Plain text lines, all of this service. */
  service?: string
  serviceField?: string
  timeField?: string
  msgField?: string
  batchSize: number
  retries: number
}

export interface SendReport {
  accepted: number
  rejected: number
}

/** Rejected lines listed on stderr at most; the rest are only counted. */
const MAX_LISTED = 20

interface BatchAnswer { stored?: number, rejectedCount?: number, rejected?: Array<{ index: number, error: string }> }

export async function runSend (client: Client, o: SendOptions, input: Readable, say: (message: string) => void): Promise<SendReport> {
  const params = new URLSearchParams()
  if (o.serviceField !== undefined) params.set('_service_field', o.serviceField)
  if (o.timeField !== undefined) params.set('_time_field', o.timeField)
  if (o.msgField !== undefined) params.set('_msg_field', o.msgField)
  const report: SendReport = { accepted: 0, rejected: 0 }
  let listed = 0

  const post = async (batch: Batch): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const res = await client.fetch('/logs', params, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: batch.body })
      const text = await res.text()
      if (RETRY_STATUSES.has(res.status) && attempt < o.retries) {
        const ms = retryDelayMs(attempt, res.headers.get('retry-after'), Date.now())
        say(`the server answered ${res.status}; sending lines ${batch.lineNumbers[0]}-${batch.lineNumbers[batch.lineNumbers.length - 1]} again in ${ms} ms`)
        await sleep(ms)
        continue
      }
      let answer: BatchAnswer = {}
      try {
        answer = JSON.parse(text) as BatchAnswer
      } catch {}
      if (res.ok && typeof answer.stored === 'number') {
        report.accepted += answer.stored
        return
      }
      // Some entries refused (invalid, or the store holds MAX_SERVICES services): the rest were stored.
      if ((res.status === 400 || res.status === 507) && typeof answer.stored === 'number') {
        report.accepted += answer.stored
        report.rejected += answer.rejectedCount ?? 0
        for (const r of answer.rejected ?? []) {
          if (listed++ < MAX_LISTED) say(`line ${batch.lineNumbers[r.index] ?? '?'}: ${r.error}`)
        }
        return
      }
      throw serverError(res.status, text)
    }
  }

  const batcher = new Batcher(o.batchSize)
  const lines = createInterface({ input, crlfDelay: Infinity })
  let lineNumber = 0
  try {
    for await (const line of lines) {
      lineNumber++
      if (line.trim() === '') continue
      const batch = batcher.add(o.service === undefined ? line : textEntry(o.service, line, new Date()), lineNumber)
      if (batch !== null) await post(batch)
    }
    const last = batcher.flush()
    if (last !== null) await post(last)
  } finally {
    lines.close()
    if (listed > MAX_LISTED) say(`(${listed - MAX_LISTED} more rejected lines not listed)`)
    say(`accepted ${report.accepted}, rejected ${report.rejected}`)
  }
  return report
}
