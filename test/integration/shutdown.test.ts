import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { isoAt, spawnServer } from './helpers.js'

describe('SIGTERM under load', () => {
  it('keeps every acknowledged entry until exit; requests in flight finish or get a clear 503', async () => {
    const { child, url, lines } = await spawnServer({ SHARDS: '2' })
    let acked = 0
    const state = { stop: false }
    const other: string[] = []
    const client = async (c: number): Promise<void> => {
      for (let i = 0; i < 2000 && !state.stop; i++) {
        const body = JSON.stringify(Array.from({ length: 10 }, (_, k) => ({ service: `sd${c}`, timestamp: isoAt(0), message: `c${c}-${i}-${k}` })))
        try {
          const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          const json = await res.json() as { stored?: number, error?: string }
          if (res.status === 201) acked += json.stored!
          else other.push(`${res.status} ${json.error}`)
        } catch {
          // Refused or reset: the server is gone or no longer accepting; nothing was acknowledged.
          return
        }
      }
    }
    const clients = Array.from({ length: 16 }, (_, c) => client(c))
    await new Promise((resolve) => setTimeout(resolve, 400))
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    state.stop = true
    await Promise.all(clients)

    expect(code).toBe(0)
    expect(acked).toBeGreaterThan(0)
    for (const o of other) expect(o).toMatch(/^503 the server is shutting down/)
    const final = lines.map((l) => JSON.parse(l) as { msg: string, entries?: number }).find((r) => r.msg === 'shards stopped')
    expect(final?.entries).toBe(acked)
  })
})
