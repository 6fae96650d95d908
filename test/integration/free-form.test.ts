import { encode, ExtData } from '@msgpack/msgpack'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAll, startTestServer, type RunningServer } from './helpers.js'

// POST /logs and POST /insert/jsonline with documents in the shipper's own
// field names: Vector's http sink (a JSON array), Fluent Bit's http output
// (json, json_lines, json_stream, and msgpack by default). Without field
// parameters POST /logs keeps its strict contract.

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { formatTimestamp } = await import(dist('core/timestamp.js')) as typeof import('../../src/core/timestamp.js')

let server: RunningServer
let url: string
beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  url = server.url
})
afterAll(async () => { await server.close() })

async function post (path: string, body: string | Uint8Array, type: string, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body })
  return { status: res.status, body: await res.json() }
}
/** Now minus `ms` in µs, on a whole ms. */
const msAgo = (ms: number): number => (Date.now() - ms) * 1000
const iso = (us: number): string => new Date(us / 1000).toISOString()

describe('JSON in any shape', () => {
  it('Vector\'s http sink: a JSON array of events with message, timestamp and host', async () => {
    const t = msAgo(4000)
    const events = [
      { message: 'vector one', timestamp: iso(t).replace('Z', '123789Z'), host: 'vec-host', source_type: 'file', file: '/var/log/app.log' },
      { message: 'vector two', timestamp: iso(t + 1000), host: 'vec-host', source_type: 'file' }
    ]
    const res = await post('/logs?_service_field=host', JSON.stringify(events), 'application/json')
    expect(res).toEqual({ status: 201, body: { stored: 2 } })
    expect(await readAll(url, 'service=vec-host')).toEqual([
      { service: 'vec-host', timestamp: formatTimestamp(t + 123), message: 'vector one', attributes: { source_type: 'file', file: '/var/log/app.log' } },
      { service: 'vec-host', timestamp: formatTimestamp(t + 1000), message: 'vector two', attributes: { source_type: 'file' } }
    ])
  })

  it('Fluent Bit json_lines and json_stream: float seconds in date, the line in log; defaults on /insert/jsonline', async () => {
    const t = msAgo(3000) + 250
    const lines = [{ date: t / 1e6, log: 'fb line one', app: 'fb-app', kubernetes: { pod_name: 'p-1' } }, { date: (t + 1e6) / 1e6, log: 'fb line two', app: 'fb-app' }]
    expect(await post('/insert/jsonline', lines.map((l) => JSON.stringify(l)).join('\n') + '\n', 'application/x-ndjson')).toEqual({ status: 201, body: { stored: 2 } })
    // json_stream: objects with no separator, sent as application/stream+json.
    const stream = lines.map((l) => JSON.stringify({ ...l, app: 'fb-stream' })).join('')
    expect(await post('/logs?_msg_field=log', gzipSync(stream), 'application/stream+json', { 'content-encoding': 'gzip' })).toEqual({ status: 201, body: { stored: 2 } })
    const want = (service: string): unknown[] => [
      { service, timestamp: formatTimestamp(t), message: 'fb line one', attributes: { 'kubernetes.pod_name': 'p-1' } },
      { service, timestamp: formatTimestamp(t + 1e6), message: 'fb line two' }
    ]
    expect(await readAll(url, 'service=fb-app')).toEqual(want('fb-app'))
    expect(await readAll(url, 'service=fb-stream')).toEqual(want('fb-stream'))
  })

  it('field names by header on the fast path; documents without a service field go to unknown_service', async () => {
    const t = msAgo(2000)
    const res = await post('/logs', JSON.stringify({ ts: t / 1000, text: 'by header', who: 'hdr-svc' }), 'application/json', { 'logagg-service-field': 'who', 'logagg-time-field': 'ts', 'logagg-msg-field': 'text' })
    expect(res).toEqual({ status: 201, body: { stored: 1 } })
    expect(await readAll(url, 'service=hdr-svc')).toEqual([{ service: 'hdr-svc', timestamp: formatTimestamp(t), message: 'by header' }])
    expect((await post('/insert/jsonline', JSON.stringify({ message: 'nobody', timestamp: iso(t) }), 'application/json')).status).toBe(201)
    expect((await readAll(url, 'service=unknown_service')).map((l) => l.message)).toContain('nobody')
  })

  it('lists the documents it could not store by index and stores the rest', async () => {
    const t = msAgo(1000)
    const body = [
      JSON.stringify({ message: 'good', app: 'half-ff', timestamp: iso(t) }),
      '{"message": broken}',
      JSON.stringify({ text: 'no message', app: 'half-ff' }),
      JSON.stringify({ message: 'old', app: 'half-ff', timestamp: '2020-01-01T00:00:00Z' })
    ].join('\n')
    const res = await post('/insert/jsonline', body, 'application/x-ndjson')
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'LOGAGG_ERR_INVALID_ENTRY', stored: 1, rejectedCount: 3 })
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2, 3])
    expect(res.body.rejected[0].error).toMatch(/not valid JSON/)
    expect(res.body.rejected[1].error).toMatch(/no message field/)
    expect(res.body.rejected[2].error).toMatch(/older than the retention window/)
    expect(await readAll(url, 'service=half-ff')).toEqual([{ service: 'half-ff', timestamp: formatTimestamp(t), message: 'good' }])
  })

  it('reads a large JSON array (over 256 KiB) element by element, listing a bad element by its index', async () => {
    const t = msAgo(1500)
    const events: unknown[] = Array.from({ length: 3000 }, (_, i) => ({ message: `big ${i} ${'p'.repeat(100)}`, timestamp: iso(t), host: 'big-host' }))
    events[1234] = ['not', 'an', 'object']
    const body = JSON.stringify(events)
    expect(body.length).toBeGreaterThan(256 * 1024)
    const res = await post('/logs?_service_field=host', body, 'application/json')
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ stored: 2999, rejectedCount: 1, rejected: [{ index: 1234, error: expect.stringMatching(/must be a JSON object; got an array/) }] })
    const logs = await readAll(url, 'service=big-host')
    expect(logs.length).toBe(2999)
    expect(logs[1234]!.message).toBe(`big 1235 ${'p'.repeat(100)}`)
    const broken = await post('/logs?_service_field=host', body.slice(0, -1), 'application/json')
    expect(broken).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not valid JSON/) } })
  })

  it('without field parameters POST /logs keeps its strict contract and errors', async () => {
    const doc = { message: 'vector-shaped', timestamp: new Date().toISOString(), host: 'strict-host' }
    const strict = await post('/logs', JSON.stringify(doc), 'application/json')
    expect(strict).toEqual({ status: 400, body: { error: 'service is missing', code: 'LOGAGG_ERR_INVALID_ENTRY' } })
    const unknownParam = await post('/logs?foo=bar', JSON.stringify(doc), 'application/json')
    expect(unknownParam.status).toBe(400)
    expect((await post('/logs', '{"a":1}{"b":2}', 'application/stream+json')).body.error).toMatch(/not valid JSON/)
    expect(await readAll(url, 'service=strict-host')).toEqual([])
  })
})

const eventTime = (us: number): ExtData => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setUint32(0, Math.floor(us / 1e6))
  new DataView(b.buffer).setUint32(4, (us % 1e6) * 1000 + 999)
  return new ExtData(0, b)
}

describe('msgpack (Fluent Bit http output, default format)', () => {
  it('stores [time, record] and [[time, metadata], record] events with their EventTime', async () => {
    const t = msAgo(3000) + 321
    const body = Buffer.concat([
      encode([eventTime(t), { log: 'mp one', app: 'mp-app', stream: 'stdout' }]),
      encode([[eventTime(t + 1), {}], { log: 'mp two', app: 'mp-app' }])
    ])
    expect(await post('/logs', body, 'application/msgpack')).toEqual({ status: 201, body: { stored: 2 } })
    expect(await readAll(url, 'service=mp-app')).toEqual([
      { service: 'mp-app', timestamp: formatTimestamp(t), message: 'mp one', attributes: { stream: 'stdout' } },
      { service: 'mp-app', timestamp: formatTimestamp(t + 1), message: 'mp two' }
    ])
  })

  it('answers 400 in our JSON for a body that is not msgpack events, storing nothing', async () => {
    const res = await post('/logs', encode({ log: 'not an event', app: 'mp-bad' }), 'application/msgpack')
    expect(res).toEqual({ status: 400, body: { error: expect.stringMatching(/msgpack body is not valid: value 0 is not an event/), code: 'LOGAGG_ERR_MALFORMED_BODY' } })
    const cut = await post('/logs', encode([eventTime(msAgo(0)), { log: 'cut', app: 'mp-bad' }]).subarray(0, 10), 'application/msgpack')
    expect(cut.status).toBe(400)
    expect(await readAll(url, 'service=mp-bad')).toEqual([])
  })
})
