import fc from 'fast-check'
import { deflateSync, gzipSync } from 'node:zlib'
import SnappyJS from 'snappyjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, isoAt, postJson, startTestServer, type RunningServer } from './helpers.js'

// Property-based, like fuzz.test.ts for /logs: malformed Loki pushes and OTLP
// exports (garbage, truncated protobuf, wrong snappy, JSON of the wrong
// shape, bombs) get a 4xx in the protocol's own error shape, never a 5xx,
// and the store holds exactly what it held before.

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { PushRequest, ExportLogsServiceRequest, RpcStatus } = await import(dist('ingest/formats/protos.js')) as typeof import('../../src/ingest/formats/protos.js')

const MAX_BODY = 64 * 1024
let server: RunningServer
let url: string
let snapshot: string

const store = async (): Promise<string> => JSON.stringify([(await getJson(url, '/logs?limit=10000&start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z')).body, (await getJson(url, '/services')).body])

beforeAll(async () => {
  server = await startTestServer({ shards: 2, maxBody: MAX_BODY })
  url = server.url
  const seed = Array.from({ length: 20 }, (_, i) => ({ service: `pf${i % 4}`, timestamp: isoAt(-i * 1000, i), message: `seed ${i}` }))
  expect((await postJson(url, seed)).status).toBe(201)
  snapshot = await store()
})
afterAll(async () => { await server.close() })

async function post (path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<{ status: number, type: string, bytes: Buffer }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body })
  return { status: res.status, type: res.headers.get('content-type') ?? '', bytes: Buffer.from(await res.arrayBuffer()) }
}

const garbage = fc.uint8Array({ minLength: 0, maxLength: 300 })
const snappy = (b: Uint8Array): Uint8Array => SnappyJS.compress(b)
/** A snappy block header claiming `n` bytes, followed by a little data. */
const bombHeader = fc.integer({ min: MAX_BODY + 1, max: 2 ** 32 - 1 }).map((n) => {
  const out: number[] = []
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 128) { out.push(v); break }
    out.push((v % 128) | 0x80)
  }
  return Uint8Array.from([...out, 0x00, 0x61])
})
const zipBomb = fc.constantFrom(gzipSync(Buffer.alloc(MAX_BODY * 4, 0x7b)), deflateSync(Buffer.alloc(MAX_BODY * 4, 0x7b)))

/** Old entries: a truncation that still decodes stores nothing (they are outside the window). */
const lokiProto = (lines: string[]): Uint8Array => PushRequest.encode(PushRequest.fromObject({
  streams: [{ labels: '{app="fuzz"}', entries: lines.map((line) => ({ timestamp: { seconds: 1000, nanos: 0 }, line })) }, { labels: '{app="fuzz2"}', entries: [{ timestamp: { seconds: 1000 }, line: 'x' }] }]
})).finish()
const truncated = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> => fc.integer({ min: 1, max: bytes.length - 1 }).map((n) => bytes.subarray(0, n))

const wrongShape = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
  fc.record({ streams: fc.oneof(fc.jsonValue({ maxDepth: 2 }).filter((v) => !Array.isArray(v)), fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 4 })) }),
  fc.record({ resourceLogs: fc.oneof(fc.jsonValue({ maxDepth: 2 }).filter((v) => !Array.isArray(v) && v !== null), fc.array(fc.record({ scopeLogs: fc.jsonValue({ maxDepth: 2 }).filter((v) => !Array.isArray(v) && v !== null) }), { minLength: 1, maxLength: 3 })) })
).map((v) => JSON.stringify(v))

function expectLokiError (a: { status: number, type: string, bytes: Buffer }): void {
  expect(a.status, a.bytes.toString()).toBeGreaterThanOrEqual(400)
  expect(a.status).toBeLessThan(500)
  expect(a.type).toMatch(/^text\/plain/)
  expect(a.bytes.length).toBeGreaterThan(0)
}

function expectOtlpAnswer (a: { status: number, type: string, bytes: Buffer }, json: boolean): void {
  // Bytes that happen to decode as a (mostly empty) request get a 200 with nothing or all rejected.
  if (a.status === 200) return
  expect(a.status).toBeGreaterThanOrEqual(400)
  expect(a.status).toBeLessThan(500)
  const status = json ? JSON.parse(a.bytes.toString()) as { code: number, message: string } : RpcStatus.toObject(RpcStatus.decode(a.bytes)) as { code: number, message: string }
  expect(status.code).toBe(3)
  expect(status.message).toMatch(/LOGAGG_ERR_/)
}

describe('fuzzing the push protocols', () => {
  it('Loki: garbage, wrong snappy, truncated protobuf and bombs get a plain-text 4xx', async () => {
    const full = lokiProto(['a', 'b', 'c'])
    const body = fc.oneof(
      garbage.map((b) => ({ body: b, headers: {} })),
      garbage.map((b) => ({ body: snappy(b), headers: { 'content-encoding': 'snappy' } })),
      truncated(full).map((b) => ({ body: snappy(b), headers: {} })),
      bombHeader.map((b) => ({ body: b, headers: {} })),
      zipBomb.map((b) => ({ body: b, headers: { 'content-encoding': b[0] === 0x1f ? 'gzip' : 'deflate', 'content-type': 'application/json' } })),
      wrongShape.map((b) => ({ body: b, headers: { 'content-type': 'application/json' } })),
      garbage.map((b) => ({ body: b, headers: { 'content-encoding': 'gzip' } }))
    )
    await fc.assert(fc.asyncProperty(body, async ({ body, headers }) => {
      expectLokiError(await post('/loki/api/v1/push', body, { 'content-type': 'application/x-protobuf', ...headers }))
    }), { numRuns: 150 })
  })

  it('OTLP: garbage, truncated protobuf, JSON of the wrong shape and bombs get a google.rpc.Status 4xx', async () => {
    const full = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject({
      resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: '1000', body: { stringValue: 'x' } }, { timeUnixNano: '2000', body: { stringValue: 'y' } }] }] }]
    })).finish()
    const body = fc.oneof(
      garbage.map((b) => ({ body: b, json: false, headers: {} })),
      truncated(full).map((b) => ({ body: b, json: false, headers: {} })),
      garbage.map((b) => ({ body: b, json: false, headers: { 'content-encoding': 'gzip' } })),
      zipBomb.filter((b) => b[0] === 0x1f).map((b) => ({ body: b, json: true, headers: { 'content-encoding': 'gzip' } })),
      wrongShape.map((b) => ({ body: b, json: true, headers: {} })),
      fc.string({ maxLength: 100 }).map((b) => ({ body: b, json: true, headers: {} }))
    )
    await fc.assert(fc.asyncProperty(body, async ({ body, json, headers }) => {
      expectOtlpAnswer(await post('/v1/logs', body, { 'content-type': json ? 'application/json' : 'application/x-protobuf', ...headers }), json)
    }), { numRuns: 150 })
  })

  it('left the store exactly as it was', async () => {
    expect(await store()).toBe(snapshot)
    expect((await getJson(url, '/healthz')).status).toBe(200)
  })
})
