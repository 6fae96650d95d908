import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isoAt, postJson, readAll, startTestServer, type RunningServer } from './helpers.js'

// Issue 7, item 11b: a large JSON array is scanned in slices and parsed by
// the shards, never JSON.parse'd on the front in one go.

let server: RunningServer
beforeAll(async () => { server = await startTestServer({ shards: 4 }) })
afterAll(async () => { await server.close() })

describe('a JSON array body over 256 KiB', () => {
  it('stores every element and answers with the count', async () => {
    const ts = isoAt(-1000)
    const items = Array.from({ length: 5000 }, (_, i) => ({ service: `big-${i % 7}`, timestamp: ts, message: `message [${i}], "quoted" {braces}` }))
    const body = JSON.stringify(items, null, 1)
    expect(body.length).toBeGreaterThan(256 * 1024)
    const res = await postJson(server.url, body)
    expect(res).toEqual({ status: 201, body: { stored: 5000 } })
    const stored = await readAll(server.url, 'service=big-3&limit=10000')
    expect(stored.map((l) => l.message)).toEqual(items.filter((_, i) => i % 7 === 3).map((it) => it.message))
  })

  it('lists the rejected elements by index among the array and stores the rest', async () => {
    const ts = isoAt(-1000)
    const items: unknown[] = Array.from({ length: 4000 }, (_, i) => ({ service: 'mixed-big', timestamp: ts, message: `m${i} ${'x'.repeat(60)}` }))
    items[3] = { service: 'mixed-big', timestamp: 'yesterday', message: 'bad time' }
    items[1500] = 42
    items[3999] = { timestamp: ts, message: 'no service' }
    const res = await postJson(server.url, items)
    expect(res.status).toBe(400)
    expect(res.body.stored).toBe(3997)
    expect(res.body.rejectedCount).toBe(3)
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([3, 1500, 3999])
    expect(res.body.rejected[1].error).toMatch(/must be a JSON object/)
    expect((await readAll(server.url, 'service=mixed-big&limit=10000')).length).toBe(3997)
  })

  it('refuses a malformed large array with 400 and stores nothing', async () => {
    const ts = isoAt(-1000)
    const body = JSON.stringify(Array.from({ length: 4000 }, () => ({ service: 'broken-big', timestamp: ts, message: 'x'.repeat(60) }))).slice(0, -1)
    const res = await postJson(server.url, body)
    expect(res.status).toBe(400)
    expect(res.body.error).toMatch(/not valid JSON \(unterminated array/)
    expect((await readAll(server.url, 'service=broken-big')).length).toBe(0)
  })
})
