import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { isoAt, readAll } from './helpers.js'

// Sustained NDJSON ingest from several clients, each entry's message unique,
// recording what was sent and what a 2xx acknowledged; and the check that
// reads a whole store back by cursor and compares.

export interface Ledger {
  /** Messages of every entry sent (acknowledged or not). */
  sent: Set<string>
  /** Messages of entries whose request got a 2xx. */
  acked: Set<string>
  /** Requests answered with each status ('error' for a failed connection). */
  statuses: Map<string, number>
}

export interface IngestOptions {
  clients: number
  services: readonly string[]
  batch: number
  /** A prefix for this run's messages, so two runs never share one. */
  tag: string
}

/**
 * Starts `clients` loops posting NDJSON batches until stop() is called; stop
 * resolves once every loop has its last answer (or error).
 */
export function sustainedIngest (url: string, options: IngestOptions): { ledger: Ledger, stop: () => Promise<Ledger>, requests: () => number } {
  const ledger: Ledger = { sent: new Set(), acked: new Set(), statuses: new Map() }
  let stopping = false
  let requests = 0
  const loop = async (client: number): Promise<void> => {
    for (let b = 0; !stopping; b++) {
      const messages: string[] = []
      const lines: string[] = []
      for (let i = 0; i < options.batch; i++) {
        const message = `${options.tag}-c${client}-b${b}-${i}`
        messages.push(message)
        // A few entries a little late, as real shippers send them.
        const offset = i % 20 === 0 ? -1500 : 0
        lines.push(JSON.stringify({ service: options.services[(client + i) % options.services.length], timestamp: isoAt(offset, i % 1000), message }))
      }
      for (const m of messages) ledger.sent.add(m)
      let status: string
      try {
        const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') + '\n' })
        await res.arrayBuffer()
        status = String(res.status)
        if (res.status >= 200 && res.status < 300) for (const m of messages) ledger.acked.add(m)
      } catch {
        status = 'error'
        // The server went away: stop this client.
        stopping = true
      }
      requests++
      ledger.statuses.set(status, (ledger.statuses.get(status) ?? 0) + 1)
    }
  }
  const loops = Array.from({ length: options.clients }, (_, c) => loop(c))
  return {
    ledger,
    requests: () => requests,
    stop: async () => {
      stopping = true
      await Promise.all(loops)
      return ledger
    }
  }
}

/** Kills the process with SIGKILL and waits until it is gone. */
export async function killHard (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/** Reads every entry of the store by cursor; checks each acknowledged entry is there once, and nothing unknown or doubled. */
export async function readBackExactlyOnce (url: string, ledger: Ledger, params = 'limit=10000'): Promise<{ found: number, missing: string[], duplicated: string[], unknown: string[] }> {
  const seen = new Map<string, number>()
  for (const e of await readAll(url, params)) seen.set(e.message, (seen.get(e.message) ?? 0) + 1)
  const missing: string[] = []
  for (const m of ledger.acked) if (!seen.has(m)) missing.push(m)
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([m]) => m)
  const unknown = [...seen.keys()].filter((m) => !ledger.sent.has(m))
  return { found: seen.size, missing: missing.slice(0, 10), duplicated: duplicated.slice(0, 10), unknown: unknown.slice(0, 10) }
}
