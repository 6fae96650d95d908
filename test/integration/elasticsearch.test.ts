import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAll, startTestServer, type RunningServer } from './helpers.js'

// The Elasticsearch bulk API and the handshakes its clients make first, by
// hand here (rsyslog's omelasticsearch drives it in syslog-clients.test.ts).

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { formatTimestamp } = await import(dist('core/timestamp.js')) as typeof import('../../src/core/timestamp.js')

const TOKEN = 'es-ingest-token-0123456789'
let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2, maxBody: 256 * 1024, ingestToken: TOKEN })
  url = server.url
})
afterAll(async () => { await server.close() })

const auth = { authorization: `Bearer ${TOKEN}` }
const ndjson = (...lines: unknown[]): string => lines.map((l) => typeof l === 'string' ? l : JSON.stringify(l)).join('\n') + '\n'
/** Now minus `ms`, in µs, on a whole ms (ISO text carries ms). */
const msAgo = (ms: number): number => (Date.now() - ms) * 1000

async function bulk (path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...auth, ...headers }, body })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

describe('Elasticsearch handshakes', () => {
  it('GET / and HEAD / answer as an Elasticsearch 8 node, with the product header its clients check', async () => {
    for (const prefix of ['', '/insert/elasticsearch']) {
      const res = await fetch(`${url}${prefix}/`)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch')
      const info = await res.json() as { version: { number: string }, tagline: string }
      expect(info.version.number).toMatch(/^8\./)
      expect(info.tagline).toBe('You Know, for Search')
      const head = await fetch(`${url}${prefix}/`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(await head.text()).toBe('')
    }
  })

  it('_license, _nodes/http and _cluster/health; template and ILM calls acknowledged', async () => {
    expect(await (await fetch(`${url}/_license`)).json()).toMatchObject({ license: { status: 'active', type: 'basic' } })
    const nodes = await (await fetch(`${url}/insert/elasticsearch/_nodes/http`)).json() as { nodes: Record<string, { http: { publish_address: string } }> }
    expect(Object.values(nodes.nodes)[0]!.http.publish_address).toBe(new URL(url).host)
    expect(await (await fetch(`${url}/_cluster/health`)).json()).toMatchObject({ status: 'green' })
    for (const path of ['/_index_template/filebeat', '/_ilm/policy/filebeat', '/_template/logstash', '/insert/elasticsearch/_index_template/x']) {
      const put = await fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...auth }, body: '{"index_patterns":["x-*"]}' })
      expect(put.status, path).toBe(200)
      expect(await put.json()).toEqual({ acknowledged: true })
      expect((await fetch(`${url}${path}`, { method: 'HEAD' })).status).toBe(200)
    }
    // Other methods: 405 naming the allowed ones.
    for (const [method, path, allow] of [['OPTIONS', '/', 'GET, HEAD'], ['DELETE', '/_bulk', 'POST, PUT'], ['PATCH', '/insert/elasticsearch/_ilm/policy/x', 'GET, HEAD, PUT, POST, DELETE']] as const) {
      const res = await fetch(`${url}${path}`, { method })
      expect(res.status, `${method} ${path}`).toBe(405)
      expect(res.headers.get('allow')).toBe(allow)
    }
    // Setting things up is a write: it needs the ingest token like _bulk.
    const refused = await fetch(`${url}/_index_template/x`, { method: 'PUT', body: '{}' })
    expect(refused.status).toBe(401)
    expect(await refused.json()).toMatchObject({ status: 401, error: { type: 'security_exception', reason: expect.stringContaining('Authorization: Bearer') } })
  })
})

describe('POST /_bulk', () => {
  it('stores index and create documents with service, time, message and dotted attributes, answering per item in order', async () => {
    const t = msAgo(3000)
    const res = await bulk('/_bulk', ndjson(
      { index: { _index: 'web-logs', _id: 'a1' } },
      { '@timestamp': new Date(t / 1000).toISOString(), message: 'GET /', host: { name: 'h1', ip: ['10.0.0.1'] }, http: { status: 200 } },
      { create: {} },
      { timestamp: (t + 1000) / 1e6, msg: 'from seconds', service: { name: 'es-api', version: '2' } },
      { delete: { _id: 'x' } },
      { create: { _index: 'web-logs' } },
      { no_message: true },
      { create: {} },
      { timereported: '2020-11-28T23:15:00+00:00', message: 'too old', programname: 'es-api' }
    ))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch')
    expect(res.body.errors).toBe(true)
    expect(typeof res.body.took).toBe('number')
    expect(res.body.items).toEqual([
      { index: { _index: 'web-logs', _id: 'a1', _version: 1, result: 'created', status: 201 } },
      { create: { _index: 'es-api', _id: expect.any(String), _version: 1, result: 'created', status: 201 } },
      { delete: { _index: 'logs', _id: 'x', status: 400, error: { type: 'illegal_argument_exception', reason: expect.stringContaining('delete is not supported') } } },
      { create: { _index: 'web-logs', _id: expect.any(String), status: 400, error: { type: 'document_parsing_exception', reason: expect.stringContaining('no message field') } } },
      { create: { _index: 'logs', _id: expect.any(String), status: 400, error: { type: 'document_parsing_exception', reason: expect.stringContaining('older than the retention window') } } }
    ])
    expect(await readAll(url, 'service=web-logs&service=es-api')).toEqual([
      { service: 'web-logs', timestamp: formatTimestamp(t), message: 'GET /', attributes: { 'host.name': 'h1', 'host.ip': '["10.0.0.1"]', 'http.status': '200' } },
      { service: 'es-api', timestamp: formatTimestamp(t + 1000), message: 'from seconds', attributes: { 'service.version': '2' } }
    ])
  })

  it('takes the service from the path index, gzip bodies, and answers errors:false when all is stored', async () => {
    const t = msAgo(2000)
    const body = gzipSync(ndjson({ create: {} }, { '@timestamp': new Date(t / 1000).toISOString(), log: 'gzipped' }))
    const res = await bulk('/insert/elasticsearch/path-index/_bulk', body, { 'content-encoding': 'gzip', 'content-type': 'application/json' })
    expect(res.body).toMatchObject({ errors: false, items: [{ create: { status: 201, _index: 'path-index' } }] })
    expect(await readAll(url, 'service=path-index')).toEqual([{ service: 'path-index', timestamp: formatTimestamp(t), message: 'gzipped' }])
  })

  it('takes the token as the password of Basic auth, for shippers that only speak Basic (rsyslog, Fluent Bit)', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`any-user:${TOKEN}`).toString('base64')}` }
    const res = await bulk('/basic-auth/_bulk', ndjson({ create: {} }, { message: 'with basic auth' }), basic)
    expect(res.body).toMatchObject({ errors: false })
    expect((await readAll(url, 'service=basic-auth')).map((l) => l.message)).toEqual(['with basic auth'])
  })

  it('maps fields by _service_field, _time_field and _msg_field parameters, or by Logagg-*-Field headers', async () => {
    const t = msAgo(1000)
    const doc = { host: 'router-1', when: t / 1000, text: 'link down', message: 'kept as an attribute' }
    const byQuery = await bulk('/_bulk?_service_field=nope,host&_time_field=when&_msg_field=text', ndjson({ create: {} }, doc))
    expect(byQuery.body.errors).toBe(false)
    const byHeader = await bulk('/_bulk', ndjson({ create: {} }, { ...doc, host: 'router-2' }), { 'logagg-service-field': 'host', 'logagg-time-field': 'when', 'logagg-msg-field': 'text' })
    expect(byHeader.body.errors).toBe(false)
    expect(await readAll(url, 'service=router-1&service=router-2')).toEqual(['router-1', 'router-2'].map((service) =>
      ({ service, timestamp: formatTimestamp(t), message: 'link down', attributes: { message: 'kept as an attribute' } })))
    const bad = await bulk('/_bulk?_msg_field=', ndjson({ create: {} }, doc))
    expect(bad.status).toBe(400)
    expect(bad.body.error.reason).toMatch(/_msg_field must be a comma list/)
  })

  it('refuses the whole request in Elasticsearch\'s shape: bad action line, no lines, wrong type, too large, no token', async () => {
    const malformed = await bulk('/_bulk', '{"create": {}}\n{"message":"a"}\n{"create"\n{"message":"b"}\n')
    expect(malformed.status).toBe(400)
    expect(malformed.body).toEqual({ status: 400, error: { root_cause: [{ type: 'parse_exception', reason: expect.stringMatching(/Malformed action\/metadata line \[3\]/) }], type: 'parse_exception', reason: expect.any(String) } })
    expect(malformed.headers.get('logagg-error-code')).toBe('LOGAGG_ERR_MALFORMED_BODY')
    expect((await bulk('/_bulk', '\n')).body.error.reason).toMatch(/no requests added/)
    const type = await bulk('/_bulk', ndjson({ create: {} }, { message: 'x' }), { 'content-type': 'application/xml' })
    expect(type.status).toBe(415)
    expect(type.body.error.type).toBe('media_type_header_exception')
    const large = await bulk('/_bulk', ndjson({ create: {} }, { message: 'x'.repeat(300 * 1024) }))
    expect(large.status).toBe(413)
    expect(large.body.error.reason).toMatch(/MAX_BODY/)
    const res = await fetch(`${url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: ndjson({ create: {} }, { message: 'x' }) })
    expect(res.status).toBe(401)
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch')
    const wrongBasic = { authorization: `Basic ${Buffer.from(`elastic:${TOKEN}x`).toString('base64')}` }
    expect((await bulk('/_bulk', ndjson({ create: {} }, { message: 'x' }), wrongBasic)).status).toBe(401)
    expect(await readAll(url, 'contains=x&service=logs&service=unknown_service')).toEqual([])
  })
})
