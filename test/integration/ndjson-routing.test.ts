import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { LineBatch } from '../../src/store/shard-messages.js'
import { getJson, isoAt, readAll, startTestServer, type RunningServer } from './helpers.js'

// Issue 7, items 1 and 11a: NDJSON routing costs time in proportion to the
// body whatever its spelling, and each shard is sent only its own lines.

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 4 })
  url = server.url
})
afterAll(async () => { await server.close() })

/** Python json.dumps spacing: `"service": "x"`, which the old quick look searched the rest of the body for. */
function pythonBody (bytes: number, services: number): { body: string, lines: number } {
  const lines: string[] = []
  let size = 0
  const ts = isoAt(-1000)
  while (size < bytes) {
    const i = lines.length
    const line = `{"timestamp": "${ts}", "message": "python line ${i}", "service": "py-${i % services}"}`
    lines.push(line)
    size += line.length + 1
  }
  return { body: lines.join('\n') + '\n', lines: lines.length }
}

describe('NDJSON routing', () => {
  it('answers a 2 MB body of Python-style lines quickly while /healthz keeps answering', async () => {
    const { body, lines } = pythonBody(2 * 1024 * 1024, 16)
    let slowestHealth = 0
    const posting = { on: true }
    const health = (async () => {
      while (posting.on) {
        const t = performance.now()
        expect((await fetch(`${url}/healthz`)).status).toBe(200)
        slowestHealth = Math.max(slowestHealth, performance.now() - t)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    const started = performance.now()
    const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
    const took = performance.now() - started
    posting.on = false
    await health
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ stored: lines })
    expect(took).toBeLessThan(3000) // it took about 12 s before the fix
    expect(slowestHealth).toBeLessThan(1000)
    expect((await readAll(url, 'service=py-3&limit=10000')).length).toBe(Math.ceil((lines - 3) / 16))
  })

  it('sends each shard only its own lines', async () => {
    // Lengths taken when sent: the bytes are transferred, so the batch is empty afterwards.
    const texts: Array<{ length: number }> = []
    const spies = server.router.shards.map((shard) => {
      const original = shard.ingestLines.bind(shard)
      return vi.spyOn(shard, 'ingestLines').mockImplementation((batch: LineBatch) => {
        texts.push({ length: batch.text.length })
        return original(batch)
      })
    })
    try {
      const { body, lines } = pythonBody(64 * 1024, 64)
      const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
      expect(await res.json()).toEqual({ stored: lines })
      expect(texts.length).toBe(4)
      // Together the shards got the body once, not once each.
      expect(texts.reduce((n, t) => n + t.length, 0)).toBe(body.length - texts.length) // n lines joined by n - 1 newlines per shard
      for (const text of texts) expect(text.length).toBeLessThan(body.length / 2)
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
    expect((await getJson(url, '/healthz')).status).toBe(200)
  })
})
