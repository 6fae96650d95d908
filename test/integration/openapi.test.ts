import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { encode as msgpack } from '@msgpack/msgpack'
import { Validator } from '@seriousme/openapi-schema-validator'
import SnappyJS from 'snappyjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { isoAt, startTestServer, type RunningServer } from './helpers.js'
import { ApiChecker, OPENAPI_PATH, type ApiAnswer } from './openapi-check.js'

// GET /openapi.json is a valid OpenAPI 3.1 document, and the running server's
// answers, to real requests on every documented route (successes and
// errors), match it: each status is documented for its operation, and each
// body validates against the schema of its status and content type.

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { PushRequest, ExportLogsServiceRequest } = await import(dist('ingest/formats/protos.js')) as typeof import('../../src/ingest/formats/protos.js')

const TOKEN = 'openapi-test-token-0123456789'
let server: RunningServer
let guarded: RunningServer
const api = new ApiChecker()

beforeAll(async () => {
  [server, guarded] = await Promise.all([
    startTestServer({ shards: 2, maxBody: 64 * 1024 }),
    startTestServer({ shards: 1, authToken: TOKEN })
  ])
})
afterAll(async () => { await Promise.all([server.close(), guarded.close()]) })

interface Call { method?: string, headers?: Record<string, string>, body?: string | Buffer | Uint8Array, on?: RunningServer }

/** Sends a request and returns the whole answer. */
async function call (path: string, { method = 'GET', headers = {}, body, on = server }: Call = {}): Promise<ApiAnswer> {
  const res = await fetch(`${on.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) }
}

/** Sends a request, expects `status`, and checks the answer against the document. */
async function expectDocumented (status: number, path: string, init: Call = {}): Promise<ApiAnswer> {
  const answer = await call(path, init)
  expect(answer.status, `${init.method ?? 'GET'} ${path}: ${answer.body.toString('utf8').slice(0, 300)}`).toBe(status)
  api.check(init.method ?? 'GET', path, answer)
  return answer
}

const json = (value: unknown): Call => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) })
const form = (fields: Record<string, string>): Call => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
const entry = (service: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ service, timestamp: isoAt(-1000), message, ...extra })
const nowNs = (msAgo: number): string => `${BigInt(Date.now() - msAgo) * 1_000_000n}`
const bearer = { authorization: `Bearer ${TOKEN}` }

describe('the document', () => {
  it('GET /openapi.json serves openapi/openapi.json as JSON, open like /healthz', async () => {
    const answer = await expectDocumented(200, '/openapi.json', { on: guarded })
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')))
    await expectDocumented(200, '/openapi.json', { method: 'HEAD' })
  })

  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    const served = JSON.parse((await call('/openapi.json')).body.toString('utf8'))
    const validator = new Validator()
    const result = await validator.validate(served)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('the validator and the checker can fail: a broken document and wrong bodies are refused', async () => {
    const broken = structuredClone(api.doc)
    broken.paths['/logs'].get.responses = { ok: { description: 'not a status code' } }
    expect((await new Validator().validate(broken)).valid).toBe(false)
    // An entry without a message, an extra field, a timestamp without microseconds, a missing next.
    expect(() => api.checkJson('GET', '/logs', 200, { logs: [{ service: 'a', timestamp: '2026-01-01T00:00:00.000000Z' }], next: null })).toThrow(/message/)
    expect(() => api.checkJson('GET', '/logs', 200, { logs: [], next: null, total: 0 })).toThrow(/additional/)
    expect(() => api.checkJson('GET', '/logs', 200, { logs: [{ service: 'a', timestamp: '2026-01-01T00:00:00Z', message: 'm' }], next: null })).toThrow(/pattern/)
    expect(() => api.checkJson('GET', '/logs', 200, { logs: [] })).toThrow(/next/)
    // A status or a content type the operation does not document.
    expect(() => api.checkJson('GET', '/logs', 201, { logs: [], next: null })).toThrow(/not documented/)
    expect(() => api.checkJson('GET', '/services', 200, { services: [], next: null }, 'text/html')).toThrow(/not documented/)
    expect(() => api.checkJson('POST', '/logs', 400, { error: 'bad', code: 'BAD' })).toThrow(/schema/)
    expect(() => api.checkJson('GET', '/nowhere', 200, {})).toThrow(/not documented/)
    // The right shapes pass.
    api.checkJson('GET', '/logs', 200, { logs: [{ service: 'a', timestamp: '2026-01-01T00:00:00.000000Z', message: 'm' }], next: null })
    api.checkJson('POST', '/logs', 400, { error: 'bad', code: 'LOGAGG_ERR_BAD_REQUEST' })
  })
})

describe('native routes', () => {
  it('POST /logs: single, array, NDJSON, msgpack, named fields, gzip', async () => {
    await expectDocumented(201, '/logs', json(entry('oa-api', 'hello')))
    await expectDocumented(201, '/logs', json([entry('oa-api', 'one', { attributes: { region: 'eu', code: 500 } }), entry('oa-web', 'two')]))
    await expectDocumented(201, '/logs', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: [entry('oa-api', 'line\nbreak'), entry('oa-web', 'three')].map((e) => JSON.stringify(e)).join('\n') + '\n' })
    await expectDocumented(201, '/logs?_service_field=app', json([{ app: 'oa-free', msg: 'free-form', level: 'info' }]))
    await expectDocumented(201, '/logs', { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: msgpack([Math.floor(Date.now() / 1000), { service: 'oa-pack', message: 'from msgpack' }]) })
    await expectDocumented(201, '/logs', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(entry('oa-api', 'zipped'))) })
    await expectDocumented(201, '/logs', json({ service: 'oa-api', timestamp: Date.now() / 1000, message: 'epoch seconds' }))
    await expectDocumented(201, '/logs', form({ name: 'oa-py', msg: 'from %s', args: "('HTTPHandler',)", levelname: 'INFO', created: String(Date.now() / 1000) }))
    await expectDocumented(400, '/logs', form({ msg: 'no logger name' }))
  })

  it('POST /logs errors: invalid entry, partial batch, not JSON, 415, 413, bad gzip, 403, 401', async () => {
    await expectDocumented(400, '/logs', json({ service: 'oa-api', timestamp: 'yesterday', message: 'x' }))
    const partial = await expectDocumented(400, '/logs', json([entry('oa-api', 'good'), { service: 'oa-api', message: 'no time' }]))
    expect(JSON.parse(partial.body.toString('utf8'))).toMatchObject({ stored: 1, rejectedCount: 1 })
    await expectDocumented(400, '/logs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })
    await expectDocumented(400, '/logs', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip' })
    await expectDocumented(415, '/logs', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<log/>' })
    await expectDocumented(413, '/logs', json(entry('oa-api', 'x'.repeat(70 * 1024))))
    await expectDocumented(403, '/logs', { ...json(entry('oa-api', 'x')), headers: { 'content-type': 'application/json', origin: 'https://evil.example' } })
    await expectDocumented(401, '/logs', { ...json(entry('oa-api', 'x')), on: guarded })
    await expectDocumented(201, '/logs', { ...json(entry('oa-api', 'x')), headers: { 'content-type': 'application/json', ...bearer }, on: guarded })
  })

  it('GET /logs in its three layouts, and its errors', async () => {
    const page = await expectDocumented(200, '/logs?service=oa-api&service=oa-web&since=15m')
    expect(JSON.parse(page.body.toString('utf8')).logs.length).toBeGreaterThanOrEqual(5)
    await expectDocumented(200, '/logs?service=oa-api&limit=1&order=desc&contains=o&regex=o')
    const ndjson = await expectDocumented(200, '/logs?service=oa-api&limit=1&format=ndjson')
    expect(ndjson.body.toString('utf8')).toMatch(/\n\{"next":"[^"]+"\}\n$/)
    const text = await expectDocumented(200, '/logs?service=oa-api&limit=2&format=text')
    expect(text.headers.get('link')).toMatch(/rel="next"/)
    await expectDocumented(200, '/logs?service=oa-api', { headers: { accept: 'text/plain' } })
    await expectDocumented(200, '/logs?service=oa-api', { headers: { accept: 'application/x-ndjson' } })
    await expectDocumented(200, '/logs?service=oa-api&attr.region=eu')
    await expectDocumented(200, '/logs?service=oa-nothing&format=text')
    await expectDocumented(200, '/logs?service=oa-api', { method: 'HEAD' })
    await expectDocumented(400, '/logs?limit=0')
    await expectDocumented(400, '/logs?format=xml')
    await expectDocumented(400, '/logs?bogus=1')
    await expectDocumented(400, '/logs?start=yesterday')
    await expectDocumented(414, `/logs?contains=${'x'.repeat(9000)}`)
    await expectDocumented(401, '/logs', { on: guarded })
    await expectDocumented(200, '/logs', { headers: bearer, on: guarded })
    await expectDocumented(401, '/logs', { method: 'HEAD', on: guarded })
  })

  /** Reads a tail until `end` is in what came, then stops it; the answer up to the last complete `end`. */
  async function tailUntil (path: string, end: string): Promise<ApiAnswer> {
    const controller = new AbortController()
    const res = await fetch(`${server.url}${path}`, { signal: controller.signal })
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes(end)) {
      const { value, done } = await reader.read()
      if (done) break
      text += Buffer.from(value).toString('utf8')
    }
    controller.abort()
    return { status: res.status, headers: res.headers, body: Buffer.from(text.slice(0, text.lastIndexOf(end) + end.length)) }
  }

  it('GET /logs/tail: an event stream of entries, or NDJSON or text lines; 400 for a bad filter', async () => {
    const sse = await tailUntil('/logs/tail?service=oa-api&since=15m', '\n\n')
    expect(sse.status).toBe(200)
    expect(sse.body.toString('utf8')).toMatch(/^id: \S+\ndata: \{/)
    api.check('GET', '/logs/tail', sse)
    const ndjson = await tailUntil('/logs/tail?service=oa-api&since=15m&format=ndjson', '\n')
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    api.check('GET', '/logs/tail', ndjson)
    const text = await tailUntil('/logs/tail?service=oa-api&since=15m&format=text', '\n')
    expect(text.body.toString('utf8')).toMatch(/^\S+Z oa-api /)
    api.check('GET', '/logs/tail', text)
    await expectDocumented(400, '/logs/tail?since=soon')
    await expectDocumented(401, '/logs/tail', { on: guarded })
  })

  it('GET /services, /healthz', async () => {
    const services = await expectDocumented(200, '/services?limit=2')
    const { next } = JSON.parse(services.body.toString('utf8')) as { next: string }
    await expectDocumented(200, `/services?cursor=${next}`)
    await expectDocumented(200, '/services', { method: 'HEAD' })
    const lines = (await expectDocumented(200, '/services?limit=1&format=ndjson')).body.toString('utf8').trim().split('\n')
    expect(lines.length).toBe(2)
    expect(JSON.parse(lines[1]!)).toHaveProperty('next')
    const text = await expectDocumented(200, '/services?limit=1&format=text')
    expect(text.headers.get('link')).toMatch(/rel="next"/)
    await expectDocumented(400, '/services?limit=0')
    await expectDocumented(400, '/services?cursor=!!')
    await expectDocumented(401, '/services', { on: guarded })
    await expectDocumented(200, '/healthz')
    await expectDocumented(200, '/healthz', { method: 'HEAD' })
    await expectDocumented(200, '/healthz', { on: guarded })
    await expectDocumented(403, '/healthz', { headers: { origin: 'https://evil.example' } })
  })

  it('POST /insert/jsonline: array, NDJSON, stream+json, msgpack; partial batch, not JSON, 415, 401', async () => {
    await expectDocumented(201, '/insert/jsonline', json([{ log: 'a', app: 'oa-jsonline', date: Date.now() / 1000 }]))
    await expectDocumented(201, '/insert/jsonline?_service_field=app', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"app":"oa-jsonline","msg":"b"}\n{"app":"oa-jsonline","msg":"c"}\n' })
    await expectDocumented(201, '/insert/jsonline', { method: 'POST', headers: { 'content-type': 'application/stream+json', 'logagg-msg-field': 'text' }, body: '{"text":"d"}{"text":"e"}' })
    await expectDocumented(201, '/insert/jsonline', { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: msgpack([[Date.now() / 1000, { message: 'f' }]]) })
    await expectDocumented(400, '/insert/jsonline', json([{ message: 'ok' }, { nothing: 'here' }]))
    await expectDocumented(400, '/insert/jsonline', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'plain words' })
    await expectDocumented(415, '/insert/jsonline', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' })
    await expectDocumented(401, '/insert/jsonline', { ...json([{ message: 'x' }]), on: guarded })
  })
})

describe('Loki', () => {
  const push = (streams: unknown): Call => json({ streams })

  it('POST /loki/api/v1/push: JSON and protobuf + snappy; errors in plain text, 401 and 405 too', async () => {
    await expectDocumented(204, '/loki/api/v1/push', push([{ stream: { app: 'oa-loki', env: 'prod' }, values: [[nowNs(2000), 'level=error msg="boom" status=500', { trace: 't1' }], [nowNs(1000), '{"level":"info","took":"12ms"}']] }]))
    const proto = Buffer.from(SnappyJS.compress(PushRequest.encode(PushRequest.fromObject({ streams: [{ labels: '{app="oa-loki", env="dev"}', entries: [{ timestamp: { seconds: Math.floor(Date.now() / 1000) - 1, nanos: 0 }, line: 'from protobuf' }] }] })).finish()))
    await expectDocumented(204, '/loki/api/v1/push', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: proto })
    await expectDocumented(400, '/loki/api/v1/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"streams":' })
    await expectDocumented(400, '/loki/api/v1/push', push([{ stream: { app: 'oa-loki' }, values: [['1', 'far too old']] }]))
    await expectDocumented(400, '/loki/api/v1/push', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: 'not snappy' })
    await expectDocumented(415, '/loki/api/v1/push', { ...push([]), headers: { 'content-type': 'application/json', 'content-encoding': 'br' } })
    await expectDocumented(422, '/loki/api/v1/push', push([]))
    await expectDocumented(413, '/loki/api/v1/push', push([{ stream: { app: 'oa-loki' }, values: [[nowNs(0), 'x'.repeat(70 * 1024)]] }]))
    const denied = await expectDocumented(401, '/loki/api/v1/push', { ...push([]), on: guarded })
    expect(denied.headers.get('content-type')).toMatch(/^text\/plain/)
    // A method the path does not take: 405 with Allow, in the path's own shape (here plain text).
    const get = await call('/loki/api/v1/push')
    expect([get.status, get.headers.get('allow'), get.headers.get('content-type')]).toEqual([405, 'POST', 'text/plain; charset=utf-8'])
    const put = await call('/loki/api/v1/query_range?query=%7Bapp%3D%22x%22%7D', { method: 'PUT' })
    expect([put.status, put.headers.get('allow'), JSON.parse(put.body.toString('utf8')).status]).toEqual([405, 'GET, HEAD, POST', 'error'])
  })

  it('query_range and query, GET and POST: streams, matrix, vector, scalar; Loki JSON errors', async () => {
    const range = await expectDocumented(200, '/loki/api/v1/query_range?query=' + encodeURIComponent('{app="oa-loki"}') + '&since=1h&limit=10')
    expect(JSON.parse(range.body.toString('utf8')).data.result.length).toBeGreaterThan(0)
    await expectDocumented(200, '/loki/api/v1/query_range?direction=forward&query=' + encodeURIComponent('{app="oa-loki"} | logfmt'), { headers: { 'x-loki-response-encoding-flags': 'categorize-labels' } })
    const matrix = await expectDocumented(200, '/loki/api/v1/query_range?step=60&query=' + encodeURIComponent('sum by (env) (count_over_time({app="oa-loki"}[5m]))'))
    expect(JSON.parse(matrix.body.toString('utf8')).data.resultType).toBe('matrix')
    await expectDocumented(200, '/loki/api/v1/query_range', form({ query: '{service="oa-api"} |= "hello"', start: 'now-1h', end: 'now' }))
    await expectDocumented(400, '/loki/api/v1/query_range')
    await expectDocumented(400, '/loki/api/v1/query_range?query=' + encodeURIComponent('{app="oa-loki"} | unpack'))
    await expectDocumented(400, '/loki/api/v1/query_range', form({ query: '{app=' }))
    await expectDocumented(401, '/loki/api/v1/query_range?query=%7Bapp%3D%22x%22%7D', { on: guarded })
    await expectDocumented(200, '/loki/api/v1/query?query=' + encodeURIComponent('{app="oa-loki"}'))
    const vector = await expectDocumented(200, '/loki/api/v1/query?query=' + encodeURIComponent('count_over_time({app="oa-loki"}[10m])'))
    expect(JSON.parse(vector.body.toString('utf8')).data.resultType).toBe('vector')
    const scalar = await expectDocumented(200, '/loki/api/v1/query', form({ query: '2 * 3' }))
    expect(JSON.parse(scalar.body.toString('utf8')).data.resultType).toBe('scalar')
    await expectDocumented(400, '/loki/api/v1/query?query=%7Bapp%3D%22x%22%7D&time=yesterday')
    await expectDocumented(400, '/loki/api/v1/query', form({ query: '{app="x"}', limit: '0' }))
  })

  it('labels, label values, series, index/stats, detected_fields (GET and POST), buildinfo', async () => {
    const labels = await expectDocumented(200, '/loki/api/v1/labels?since=1h')
    expect(JSON.parse(labels.body.toString('utf8')).data).toContain('env')
    await expectDocumented(200, '/loki/api/v1/labels', form({ query: '{app="oa-loki"}' }))
    await expectDocumented(400, '/loki/api/v1/labels?start=later')
    await expectDocumented(200, '/loki/api/v1/label/env/values?query=' + encodeURIComponent('{app="oa-loki"}'))
    await expectDocumented(200, '/loki/api/v1/label/service/values', form({ since: '1h' }))
    await expectDocumented(400, '/loki/api/v1/label/env/values?query=nope')
    await expectDocumented(200, '/loki/api/v1/series?match[]=' + encodeURIComponent('{app="oa-loki"}') + '&match[]=' + encodeURIComponent('{service="oa-api"}'))
    await expectDocumented(200, '/loki/api/v1/series', form({ 'match[]': '{app="oa-loki"}' }))
    await expectDocumented(400, '/loki/api/v1/series?match[]=' + encodeURIComponent('sum(rate({a="b"}[1m]))'))
    await expectDocumented(200, '/loki/api/v1/index/stats?query=' + encodeURIComponent('{app="oa-loki"}'))
    await expectDocumented(200, '/loki/api/v1/index/stats', form({ query: '{service="oa-api"}' }))
    await expectDocumented(400, '/loki/api/v1/index/stats')
    const fields = await expectDocumented(200, '/loki/api/v1/detected_fields?query=' + encodeURIComponent('{app="oa-loki"}'))
    expect(JSON.parse(fields.body.toString('utf8')).fields.map((f: { label: string }) => f.label)).toContain('status')
    await expectDocumented(200, '/loki/api/v1/detected_fields', form({ query: '{service="oa-api"}', line_limit: '10' }))
    await expectDocumented(400, '/loki/api/v1/detected_fields?query=%7Bapp%3D%22x%22%7D&line_limit=0')
    await expectDocumented(200, '/loki/api/v1/status/buildinfo')
    await expectDocumented(401, '/loki/api/v1/status/buildinfo', { on: guarded })
    await expectDocumented(401, '/loki/api/v1/labels', { on: guarded })
  })

  it('the delete API: a request made, listed and cancelled; its refusals', async () => {
    await expectDocumented(204, `/loki/api/v1/delete?query=${encodeURIComponent('{service="oa-none"}')}&start=${Math.floor(Date.now() / 1000) - 60}`, { method: 'POST' })
    const listed = await expectDocumented(200, '/loki/api/v1/delete')
    const requests = JSON.parse(listed.body.toString('utf8')) as Array<{ request_id: string, status: string }>
    expect(requests.map((r) => r.status)).toEqual(['received'])
    await expectDocumented(204, `/loki/api/v1/delete?request_id=${requests[0]!.request_id}`, { method: 'DELETE' })
    await expectDocumented(404, `/loki/api/v1/delete?request_id=${requests[0]!.request_id}`, { method: 'DELETE' })
    await expectDocumented(400, '/loki/api/v1/delete?start=0', { method: 'POST' })
    await expectDocumented(401, '/loki/api/v1/delete', { on: guarded })
  })

  it('the tail WebSocket: 101 then Loki tail messages; refusals before the upgrade; 400 without it', async () => {
    const path = '/loki/api/v1/tail?query=' + encodeURIComponent('{app="oa-loki"}') + `&start=${nowNs(600_000)}&limit=5`
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`)
    const [status, message] = await new Promise<[number, string]>((resolve, reject) => {
      let code = 0
      ws.once('upgrade', (res) => { code = res.statusCode ?? 0 })
      ws.once('message', (data) => resolve([code, String(data)]))
      ws.once('error', reject)
    })
    ws.close()
    expect(status).toBe(101)
    api.check('GET', path, { status, headers: new Headers({ 'content-type': 'application/json' }), body: Buffer.from(message) })

    const refused = async (p: string, on = server): Promise<void> => {
      const socket = new WebSocket(`${on.url.replace('http', 'ws')}${p}`)
      const answer = await new Promise<ApiAnswer>((resolve, reject) => {
        socket.once('unexpected-response', (_req, res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: new Headers(res.headers as Record<string, string>), body: Buffer.concat(chunks) }))
        })
        socket.once('open', () => reject(new Error(`${p} was upgraded`)))
      })
      socket.once('error', () => {})
      socket.terminate()
      api.check('GET', p, answer)
      expect(answer.status).toBeGreaterThanOrEqual(400)
    }
    await refused('/loki/api/v1/tail?query=' + encodeURIComponent('count_over_time({a="b"}[1m])'))
    await refused('/loki/api/v1/tail?query=%7Bapp%3D%22x%22%7D&limit=9999')
    await refused('/loki/api/v1/tail?query=%7Bapp%3D%22x%22%7D', guarded)
    const plain = await expectDocumented(400, '/loki/api/v1/tail?query=%7Bapp%3D%22x%22%7D')
    expect(JSON.parse(plain.body.toString('utf8')).error).toMatch(/WebSocket/)
  })
})

describe('OTLP', () => {
  const request = (service: string, records: unknown[]): Record<string, unknown> => ({
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeLogs: [{ scope: {}, logRecords: records }] }]
  })

  it('POST /v1/logs in JSON and protobuf; partialSuccess; google.rpc.Status errors', async () => {
    await expectDocumented(200, '/v1/logs', json(request('oa-otlp', [{ timeUnixNano: nowNs(1000), body: { stringValue: 'otlp json' }, severityText: 'INFO' }])))
    const partial = await expectDocumented(200, '/v1/logs', json(request('oa-otlp', [{ timeUnixNano: '1', body: { stringValue: 'too old' } }])))
    expect(JSON.parse(partial.body.toString('utf8')).partialSuccess.rejectedLogRecords).toBe('1')
    const proto = Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(request('oa-otlp', [{ timeUnixNano: nowNs(500), body: { stringValue: 'otlp proto' } }]))).finish())
    await expectDocumented(200, '/v1/logs', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: proto })
    await expectDocumented(200, '/v1/logs', { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: gzipSync(proto) })
    await expectDocumented(400, '/v1/logs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceLogs":' })
    await expectDocumented(400, '/v1/logs', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: proto.subarray(0, proto.length - 3) })
    await expectDocumented(415, '/v1/logs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })
    await expectDocumented(413, '/v1/logs', json(request('oa-otlp', [{ body: { stringValue: 'x'.repeat(70 * 1024) } }])))
    await expectDocumented(401, '/v1/logs', { ...json(request('oa-otlp', [])), on: guarded })
    // An OTLP protobuf client refused for its token reads a google.rpc.Status, as for any other error.
    const denied = await expectDocumented(401, '/v1/logs', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: proto, on: guarded })
    expect(denied.headers.get('content-type')).toBe('application/x-protobuf')
  })
})

describe('Elasticsearch', () => {
  const PREFIXES = ['', '/insert/elasticsearch']
  const ndjson = (lines: unknown[]): Call => ({ method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n' })

  it('the handshakes, at / and under /insert/elasticsearch/', async () => {
    for (const prefix of PREFIXES) {
      await expectDocumented(200, `${prefix}/`, { on: guarded })
      await expectDocumented(200, `${prefix}/`, { method: 'HEAD' })
      await expectDocumented(200, `${prefix}/_license`)
      await expectDocumented(200, `${prefix}/_nodes/http`)
      await expectDocumented(200, `${prefix}/_cluster/health`)
      await expectDocumented(200, `${prefix}/_cat/health`)
      await expectDocumented(200, `${prefix}/_cat/health?format=json`)
      await expectDocumented(403, `${prefix}/_license`, { headers: { origin: 'https://evil.example' } })
    }
  })

  it('the explorer: its page at / for a browser, its files under /ui/, GET /logs/volume and its errors', async () => {
    const page = await expectDocumented(200, '/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    // Vite's build names its script and stylesheet by their hash: the page says which.
    const html = page.body.toString('utf8')
    await expectDocumented(200, /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1]!)
    await expectDocumented(200, /href="(\/ui\/assets\/[^"]+\.css)"/.exec(html)![1]!)
    await expectDocumented(200, '/ui/index.html')
    await expectDocumented(404, '/ui/nothing.js')
    await expectDocumented(404, '/ui/assets/nothing-12345678.js')
    expect((await call('/logs', json(entry('volume-doc', 'an error line')))).status).toBe(201)
    const volume = await expectDocumented(200, `/logs/volume?query=${encodeURIComponent('{service="volume-doc"}')}&start=now-5m&step=1m`)
    expect(JSON.parse(volume.body.toString('utf8')).levels.error.reduce((a: number, b: number) => a + b, 0)).toBe(1)
    await expectDocumented(200, `/logs/volume?query=${encodeURIComponent('{service="volume-doc"}')}`, { method: 'HEAD' })
    await expectDocumented(400, `/logs/volume?query=${encodeURIComponent('count_over_time({service="x"}[1m])')}`)
    await expectDocumented(400, '/logs/volume')
    await expectDocumented(400, `/logs/volume?query=${encodeURIComponent('{service="x"}')}&start=now-1d&step=1s`)
    await expectDocumented(401, `/logs/volume?query=${encodeURIComponent('{service="x"}')}`, { on: guarded })
    await expectDocumented(403, `/logs/volume?query=${encodeURIComponent('{service="x"}')}`, { headers: { origin: 'https://evil.example' } })
  })

  it('templates, ILM policies, pipelines, data streams: exist, acknowledged; 401 in Elasticsearch shape', async () => {
    for (const prefix of PREFIXES) {
      for (const kind of ['_index_template', '_template', '_component_template', '_ilm/policy', '_ingest/pipeline', '_data_stream']) {
        const path = `${prefix}/${kind}/logagg`
        await expectDocumented(200, path)
        await expectDocumented(200, path, { method: 'HEAD' })
        await expectDocumented(200, path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"index_patterns":["x-*"]}' })
        await expectDocumented(200, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
        await expectDocumented(200, path, { method: 'DELETE' })
        await expectDocumented(401, path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}', on: guarded })
      }
    }
  })

  it('_bulk and <index>/_bulk, POST and PUT: per-item answers; whole-request errors', async () => {
    const body = [
      { create: { _index: 'oa-es' } }, { message: 'stored', '@timestamp': new Date().toISOString() },
      { index: { _id: 'given' } }, { msg: 'also stored', app: 'oa-es-app' },
      { delete: { _index: 'oa-es', _id: 'x' } },
      { create: {} }, { nothing: 'to store' }
    ]
    for (const prefix of PREFIXES) {
      const answer = await expectDocumented(200, `${prefix}/_bulk`, ndjson(body))
      const parsed = JSON.parse(answer.body.toString('utf8')) as { errors: boolean, items: Array<Record<string, { status: number }>> }
      expect(parsed.errors).toBe(true)
      expect(parsed.items.map((i) => Object.values(i)[0]!.status)).toEqual([201, 201, 400, 400])
      await expectDocumented(200, `${prefix}/_bulk`, { ...ndjson(body.slice(0, 4)), method: 'PUT' })
      await expectDocumented(200, `${prefix}/oa-es-index/_bulk`, { ...ndjson(body.slice(0, 4)), method: 'PUT' })
      await expectDocumented(200, `${prefix}/oa-es-index/_bulk?_msg_field=text`, ndjson([{ index: {} }, { text: 'named field' }]))
      await expectDocumented(400, `${prefix}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: 'not an action\n' })
      await expectDocumented(400, `${prefix}/oa-es-index/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"create":{}}\n' })
      await expectDocumented(415, `${prefix}/_bulk`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b\n' })
      await expectDocumented(413, `${prefix}/_bulk`, ndjson([{ create: {} }, { message: 'x'.repeat(70 * 1024) }]))
      await expectDocumented(401, `${prefix}/_bulk`, { ...ndjson(body), on: guarded })
      await expectDocumented(200, `${prefix}/_bulk`, { ...ndjson(body.slice(0, 2)), headers: { 'content-type': 'application/x-ndjson', authorization: `Basic ${Buffer.from(`any:${TOKEN}`).toString('base64')}` }, on: guarded })
      await expectDocumented(401, `${prefix}/oa-es-index/_bulk`, { ...ndjson(body), method: 'PUT', on: guarded })
    }
  })
})

describe('GET /metrics', () => {
  it('answers the Prometheus text, and 401 in the native shape when METRICS_TOKEN is set and not sent', async () => {
    const text = await expectDocumented(200, '/metrics')
    expect(text.body.toString('utf8')).toMatch(/^# HELP logagg_/m)
    const scraped = await startTestServer({ shards: 1, metricsToken: 'openapi-metrics-token' })
    try {
      await expectDocumented(401, '/metrics', { on: scraped })
      await expectDocumented(200, '/metrics', { on: scraped, headers: { authorization: 'Bearer openapi-metrics-token' } })
    } finally {
      await scraped.close()
    }
  })
})

describe('coverage', () => {
  it('every documented operation was answered by the running server and checked', async () => {
    const missing = api.allOperations().filter((op) => !api.covered.has(op))
    expect(missing).toEqual([])
  })
})
