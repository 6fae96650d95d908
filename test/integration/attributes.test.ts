import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, isoAt, postJson, postNdjson, readAll, startTestServer, type RunningServer } from './helpers.js'

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  url = server.url
})
afterAll(async () => { await server.close() })

describe('attributes', () => {
  it('round-trip through POST /logs (object, array, NDJSON) and GET /logs, left out when absent', async () => {
    const ts = isoAt(-1000, 123)
    expect((await postJson(url, { service: 'attr-a', timestamp: ts, message: 'one', attributes: { region: 'eu-west-1', code: 500, ok: true } })).status).toBe(201)
    expect((await postJson(url, [{ service: 'attr-a', timestamp: isoAt(-900), message: 'two' }])).status).toBe(201)
    expect((await postNdjson(url, [JSON.stringify({ service: 'attr-a', timestamp: isoAt(-800), message: 'three', attributes: { 'k8s.pod': 'api-1', quote: 'say "hi"\n' } })])).status).toBe(201)
    const logs = await readAll(url, 'service=attr-a')
    expect(logs).toEqual([
      { service: 'attr-a', timestamp: ts, message: 'one', attributes: { region: 'eu-west-1', code: '500', ok: 'true' } },
      { service: 'attr-a', timestamp: logs[1]!.timestamp, message: 'two' },
      { service: 'attr-a', timestamp: logs[2]!.timestamp, message: 'three', attributes: { 'k8s.pod': 'api-1', quote: 'say "hi"\n' } }
    ])
  })

  it('filter GET /logs by attr.<name>=<value>, every filter matching', async () => {
    const batch = [
      { service: 'attr-f', timestamp: isoAt(-500), message: 'a', attributes: { level: 'error', region: 'eu' } },
      { service: 'attr-f', timestamp: isoAt(-400), message: 'b', attributes: { level: 'info', region: 'eu' } },
      { service: 'attr-g', timestamp: isoAt(-300), message: 'c', attributes: { level: 'error', region: 'us' } },
      { service: 'attr-g', timestamp: isoAt(-200), message: 'd' }
    ]
    expect((await postJson(url, batch)).status).toBe(201)
    const msgs = async (q: string): Promise<string[]> => (await readAll(url, q)).map((e) => e.message)
    expect(await msgs('service=attr-f&service=attr-g&attr.level=error')).toEqual(['a', 'c'])
    expect(await msgs('service=attr-f&service=attr-g&attr.level=error&attr.region=eu')).toEqual(['a'])
    expect(await msgs('attr.region=us')).toEqual(['c'])
    expect(await msgs('attr.region=mars')).toEqual([])
  })

  it('refuses bad attributes with a 400 naming the key, storing nothing of that entry', async () => {
    const res = await postJson(url, { service: 'attr-bad', timestamp: isoAt(0), message: 'x', attributes: { nested: { a: 1 } } })
    expect(res.status).toBe(400)
    expect(res.body.error).toContain('"nested"')
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))
    expect((await postJson(url, { service: 'attr-bad', timestamp: isoAt(0), message: 'x', attributes: many })).body.error).toMatch(/more than 64/)
    expect((await getJson(url, '/logs?service=attr-bad')).body.logs).toEqual([])
  })

  it('round-trip exactly for any strings (fast-check)', async () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 })
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ message: text, attributes: fc.option(fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), text, { maxKeys: 5 }), { nil: undefined }) }), { minLength: 1, maxLength: 20 }),
      async (items) => {
        const service = `attr-fc-${Math.random().toString(36).slice(2)}`
        const now = Date.now()
        const sent = items.map((it, i) => ({ service, timestamp: new Date(now - 10_000 + i).toISOString(), message: it.message, ...(it.attributes === undefined ? {} : { attributes: it.attributes }) }))
        const res = await postJson(url, sent)
        expect(res.status).toBe(201)
        const got = await readAll(url, `service=${service}`)
        // Lone surrogates do not survive UTF-8 in either direction; compare what JSON over HTTP can carry.
        const wire = (v: unknown): unknown => JSON.parse(Buffer.from(JSON.stringify(v)).toString('utf8'))
        expect(got.map((e) => ({ message: e.message, attributes: e.attributes }))).toEqual(wire(sent.map((e) => ({
          message: e.message,
          attributes: e.attributes === undefined || Object.keys(e.attributes).length === 0 ? undefined : e.attributes
        }))))
      }
    ), { numRuns: 40 })
  })
})
