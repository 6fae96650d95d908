import type { Request, Response } from 'express'
import { BadRequestError, InvalidEntryError } from '../errors.js'
import { ParseFailure, bodyFormat, parseBody } from '../ingest/body.js'
import { checkEntry, type Entry, type Window } from '../ingest/entry.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../timestamp.js'
import { sendJson } from './send.js'

/** At most this many rejected entries are described one by one in a 400 answer. */
export const MAX_REJECTED_LISTED = 1000

/** Rejects a non-JSON, non-NDJSON Content-Type before the body is read. */
export function checkContentType (req: Request, _res: Response, next: (err?: unknown) => void): void {
  bodyFormat(req.headers['content-type'])
  next()
}

/** POST /logs: one entry or a batch; answers only after every shard involved has stored its part. */
export function postLogs (router: ShardRouter, settings: Settings) {
  return async function postLogsHandler (req: Request, res: Response): Promise<void> {
    const body: unknown = req.body
    if (!Buffer.isBuffer(body)) throw new BadRequestError('request body is empty; send a JSON object with service, timestamp and message')
    const parsed = parseBody(body, bodyFormat(req.headers['content-type']))
    const now = nowUs()
    const window: Window = { oldest: now - settings.retention * 1000, newest: now + settings.futureSkew * 1000 }

    if (parsed.kind === 'single') {
      const entry = checkEntry(parsed.value, window)
      if (typeof entry === 'string') throw new InvalidEntryError(entry)
      await router.ingest([entry])
      sendJson(res, 201, '{"status":"Log entry stored"}')
      return
    }

    const { items } = parsed
    const valid: Entry[] = []
    const rejected: Array<{ index: number, error: string }> = []
    let rejectedCount = 0
    for (let index = 0; index < items.length; index++) {
      const item = items[index]
      const entry = item instanceof ParseFailure ? item.error : checkEntry(item, window)
      if (typeof entry === 'string') {
        if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index, error: entry })
        continue
      }
      valid.push(entry)
    }
    if (valid.length > 0) await router.ingest(valid)
    const stored = items.length - rejectedCount
    if (rejectedCount === 0) {
      sendJson(res, 201, `{"stored":${stored}}`)
      return
    }
    sendJson(res, 400, JSON.stringify({
      error: `${rejectedCount} of ${items.length} entries were rejected and not stored; the other ${stored} were stored. Fix the entries listed in rejected and send only those again`,
      code: 'LOGAGG_ERR_INVALID_ENTRY',
      stored,
      rejectedCount,
      rejected
    }))
  }
}
