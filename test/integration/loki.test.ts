import { hostname } from 'node:os'
import { gzipSync } from 'node:zlib'
import { pino } from 'pino'
import { pinoLoki } from 'pino-loki'
import SnappyJS from 'snappyjs'
import winston from 'winston'
import LokiTransport from 'winston-loki'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, readAll, startTestServer, type LogLine, type RunningServer } from './helpers.js'

// POST /loki/api/v1/push, first through the real clients (pino-loki sends
// JSON, winston-loki protobuf + snappy), then by hand for Loki's answers.
// GET /logs shows an entry's stream labels among its attributes.

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { PushRequest } = await import(dist('ingest/formats/protos.js')) as typeof import('../../src/ingest/formats/protos.js')
const { formatTimestamp } = await import(dist('core/timestamp.js')) as typeof import('../../src/core/timestamp.js')

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2, maxBody: 256 * 1024 })
  url = server.url
})
afterAll(async () => { await server.close() })

/** Now in epoch µs, rounded to the ms, minus `ms`, plus `micros`. */
const usAgo = (ms: number, micros = 0): number => (Date.now() - ms) * 1000 + micros

async function waitFor (params: string, count: number): Promise<LogLine[]> {
  let logs: LogLine[] = []
  await eventually(async () => (logs = await readAll(url, params)).length >= count, 5000)
  return logs
}

async function push (body: Buffer | string, headers: Record<string, string>): Promise<{ status: number, text: string, headers: Headers }> {
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers, body })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

const protoBody = (streams: unknown[]): Buffer => Buffer.from(SnappyJS.compress(PushRequest.encode(PushRequest.fromObject({ streams })).finish()))

describe('Loki push through the real clients', () => {
  it('pino + pino-loki (JSON): service from the app label, µs timestamps, structured metadata as attributes', async () => {
    const times = [usAgo(3000, 123), usAgo(2000, 456)]
    let next = times[0]!
    const stream = pinoLoki({ host: url, batching: false, labels: { app: 'pino-app' }, logFormat: '{msg}', structuredMetaKey: 'meta' })
    // pino-loki scales `time` to ns by its digit count, so a µs time keeps its µs.
    const logger = pino({ timestamp: () => `,"time":${next}` }, stream)
    logger.info({ meta: { requestId: 'r-1', attempt: 2 } }, 'first from pino')
    next = times[1]!
    logger.warn('second from pino')
    const logs = await waitFor('service=pino-app', 2)
    expect(logs).toEqual([
      { service: 'pino-app', timestamp: formatTimestamp(times[0]!), message: 'first from pino', attributes: { requestId: 'r-1', attempt: '2', app: 'pino-app', hostname: hostname(), level: 'info' } },
      { service: 'pino-app', timestamp: formatTimestamp(times[1]!), message: 'second from pino', attributes: { app: 'pino-app', hostname: hostname(), level: 'warning' } }
    ])
    stream.end()
  })

  it('winston + winston-loki (protobuf + snappy): service from the job label, ms timestamps', async () => {
    const transport = new LokiTransport({ host: url, labels: { job: 'winston-app' }, batching: false, replaceTimestamp: false, gracefulShutdown: false, onConnectionError: (err: unknown) => { throw err } })
    // It falls back to JSON quietly when snappy will not load; make sure it sends protobuf.
    expect((transport as unknown as { batcher: { contentType: string } }).batcher.contentType).toBe('application/x-protobuf')
    const logger = winston.createLogger({ transports: [transport] })
    const ms = [Date.now() - 3000, Date.now() - 2000]
    logger.info({ message: 'first from winston', timestamp: new Date(ms[0]!).toISOString(), requestId: 'w-1' })
    logger.error({ message: 'second from winston', timestamp: new Date(ms[1]!).toISOString() })
    const logs = await waitFor('service=winston-app', 2)
    // winston-loki appends the other fields of the log as JSON to the line.
    expect(logs).toEqual([
      { service: 'winston-app', timestamp: formatTimestamp(ms[0]! * 1000), message: 'first from winston {"requestId":"w-1","level":"info"}', attributes: { job: 'winston-app', level: 'info' } },
      { service: 'winston-app', timestamp: formatTimestamp(ms[1]! * 1000), message: 'second from winston {"level":"error"}', attributes: { job: 'winston-app', level: 'error' } }
    ])
    logger.close()
  })
})

describe('Loki push answers', () => {
  it('204 with an empty body; nanosecond timestamps truncated to µs; SERVICE_LABELS order; X-Scope-OrgID ignored', async () => {
    const t = usAgo(1000, 789)
    const body = JSON.stringify({
      streams: [
        { stream: { container: 'c1', app: 'order-app', env: 'prod' }, values: [[`${t}999`, 'from app', { trace_id: 'abc' }]] },
        { stream: { service: 'order-svc', app: 'ignored' }, values: [[`${t + 1}000`, 'from service']] },
        { stream: { env: 'dev' }, values: [[`${t + 2}000`, 'from nobody']] }
      ]
    })
    const res = await push(body, { 'content-type': 'application/json', 'x-scope-orgid': 'tenant-1' })
    expect(res).toMatchObject({ status: 204, text: '' })
    expect(await readAll(url, 'service=order-app&service=order-svc&service=unknown_service')).toEqual([
      { service: 'order-app', timestamp: formatTimestamp(t), message: 'from app', attributes: { trace_id: 'abc', app: 'order-app', container: 'c1', env: 'prod' } },
      // The label named service is the service; the others stay labels.
      { service: 'order-svc', timestamp: formatTimestamp(t + 1), message: 'from service', attributes: { app: 'ignored' } },
      { service: 'unknown_service', timestamp: formatTimestamp(t + 2), message: 'from nobody', attributes: { env: 'dev' } }
    ])
  })

  it('takes protobuf with Content-Encoding snappy, none, or gzip around it, and JSON with gzip', async () => {
    const t = usAgo(1000, 321)
    const streams = (m: string): unknown[] => [{ labels: '{app="enc-app", env="a\\"b"}', entries: [{ timestamp: { seconds: Math.floor(t / 1e6), nanos: (t % 1e6) * 1000 + 7 }, line: m, structuredMetadata: [{ name: 'k', value: 'v' }] }] }]
    expect((await push(protoBody(streams('plain')), { 'content-type': 'application/x-protobuf' })).status).toBe(204)
    expect((await push(protoBody(streams('snappy')), { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' })).status).toBe(204)
    expect((await push(gzipSync(protoBody(streams('gzip'))), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(204)
    const json = JSON.stringify({ streams: [{ stream: { app: 'enc-app' }, values: [[`${t}000`, 'json gzip']] }] })
    expect((await push(gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(204)
    const logs = await readAll(url, 'service=enc-app')
    expect(logs.map((l) => l.message).sort()).toEqual(['gzip', 'json gzip', 'plain', 'snappy'])
    for (const l of logs) expect(l.timestamp).toBe(formatTimestamp(t))
  })

  it('400 in plain text for invalid entries, storing the valid ones', async () => {
    const t = usAgo(1000)
    const body = JSON.stringify({ streams: [{ stream: { app: 'half-app' }, values: [[`${t}000`, 'good'], ['1000000000', 'too old'], [`${t + 3600e6}000`, 'in an hour']] }] })
    const res = await push(body, { 'content-type': 'application/json' })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(res.text).toMatch(/^2 of 3 entries were rejected and not stored; the other 1 were stored:\n/)
    expect(res.text).toContain('older than the retention window')
    expect(res.text).toContain('too far in the future')
    expect(res.headers.get('logagg-error-code')).toBe('LOGAGG_ERR_INVALID_ENTRY')
    expect((await readAll(url, 'service=half-app')).map((l) => l.message)).toEqual(['good'])
  })

  it('protobuf, decoded on the shards: 400 naming the invalid entries of every shard in request order, the valid ones stored', async () => {
    const t = usAgo(1000)
    const ts = (us: number): { seconds: number, nanos: number } => ({ seconds: Math.floor(us / 1e6), nanos: (us % 1e6) * 1000 })
    // Services on both shards of this server (shard = FNV-1a of the service mod 2): p-a and p-b differ in their last byte.
    const res = await push(protoBody([
      { labels: '{app="proto-half-a"}', entries: [{ timestamp: ts(t), line: 'a good' }, { timestamp: ts(1_000_000), line: 'a too old' }] },
      { labels: '{app="proto-half-b"}', entries: [{ timestamp: ts(t + 3600e6), line: 'b in an hour' }, { timestamp: ts(t + 1), line: 'b good' }] }
    ]), { 'content-type': 'application/x-protobuf' })
    expect(res.status).toBe(400)
    expect(res.text).toMatch(/^2 of 4 entries were rejected and not stored; the other 2 were stored:\n/)
    const lines = res.text.split('\n')
    expect(lines[1]).toMatch(/^entry for stream \{app="proto-half-a"\} at 1000000000 ns: .*older than the retention window/)
    expect(lines[2]).toMatch(/^entry for stream \{app="proto-half-b"\} at \d+ ns: .*too far in the future/)
    expect((await readAll(url, 'service=proto-half-a')).map((l) => l.message)).toEqual(['a good'])
    expect((await readAll(url, 'service=proto-half-b')).map((l) => l.message)).toEqual(['b good'])
  })

  it('protobuf with a broken entry in its last stream: 400 and nothing stored of any stream', async () => {
    const t = usAgo(1000)
    const { Writer } = (await import('protobufjs')).default
    const good = PushRequest.encode(PushRequest.fromObject({ streams: [{ labels: '{app="broken-a"}', entries: [{ timestamp: { seconds: Math.floor(t / 1e6), nanos: 0 }, line: 'would be stored' }] }] })).finish()
    // A stream whose entry claims a Timestamp longer than the entry itself.
    const entry = Writer.create().uint32((1 << 3) | 2).uint32(40).uint32((1 << 3) | 0).int64(1).finish()
    const stream = Writer.create().uint32((1 << 3) | 2).string('{app="broken-b"}').uint32((2 << 3) | 2).bytes(entry).finish()
    const body = Buffer.concat([good, Writer.create().uint32((1 << 3) | 2).bytes(stream).finish()])
    const res = await push(Buffer.from(SnappyJS.compress(body)), { 'content-type': 'application/x-protobuf' })
    expect(res.status).toBe(400)
    expect(res.text).toMatch(/does not decode as logproto.PushRequest/)
    expect(await readAll(url, 'service=broken-a')).toEqual([])
    expect(await readAll(url, 'service=broken-b')).toEqual([])
  })

  it('400 in plain text for a label name longer than attribute keys may be (128 characters), storing nothing of its stream', async () => {
    const t = usAgo(1000)
    const long = 'l'.repeat(10 * 1024)
    const body = JSON.stringify({ streams: [{ stream: { app: 'long-label', [long]: 'v' }, values: [[`${t}000`, 'refused']] }, { stream: { app: 'long-label', [long.slice(0, 128)]: 'v' }, values: [[`${t}000`, 'kept']] }] })
    const res = await push(body, { 'content-type': 'application/json' })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(res.text).toMatch(/label name "l{32}"… is 10240 characters long; the limit is 128/)
    expect(res.text.length).toBeLessThan(1000)
    expect((await readAll(url, 'service=long-label')).map((l) => l.message)).toEqual(['kept'])
  })

  it('422 without streams, 415 naming an unknown Content-Encoding, 405 on GET', async () => {
    expect(await push('{"streams":[]}', { 'content-type': 'application/json' })).toMatchObject({ status: 422, text: expect.stringMatching(/no streams/) })
    const res = await push('{}', { 'content-type': 'application/json', 'content-encoding': 'br' })
    expect(res.status).toBe(415)
    expect(res.text).toContain('"br"')
    expect((await fetch(`${url}/loki/api/v1/push`)).status).toBe(405)
  })

  it('413 for a snappy bomb (refused from its header), a gzip bomb, and a body over MAX_BODY', async () => {
    // A snappy block whose header claims 1 GiB.
    const bomb = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00])
    expect((await push(bomb, { 'content-type': 'application/x-protobuf' })).status).toBe(413)
    const gz = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20))
    expect(gz.length).toBeLessThan(256 * 1024)
    const res = await push(gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(res.status).toBe(413)
    expect(res.headers.get('logagg-error-code')).toBe('LOGAGG_ERR_BODY_TOO_LARGE')
    expect((await push(Buffer.alloc(300 * 1024, 0x20), { 'content-type': 'application/json' })).status).toBe(413)
  })
})
