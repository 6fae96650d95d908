import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isoAt, postJson, startTestServer, type RunningServer } from './helpers.js'

// One deeply nested JSON document (issue 18, item 10): before, a stored
// 10,000-deep JSON line made every `| json` query and detected_fields over
// it overflow the stack (500), and a deep OTLP JSON, _bulk or jsonline
// document got a retryable 500, so Collector and Filebeat resent the
// poisoned batch forever. Now queries read such a line to 100 levels, and
// ingest refuses the document with a 400 in the protocol's shape naming the
// limit; what was stored before stays.

let server: RunningServer
let url: string

/** `{"a":{"a":…1…}}`, `depth` objects deep. */
const deep = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  url = server.url
  const stored = await postJson(url, [
    { service: 'x', timestamp: isoAt(-3000), message: '{"status":"200","path":"/ok"}' },
    { service: 'x', timestamp: isoAt(-2000), message: deep(10_000) },
    { service: 'x', timestamp: isoAt(-1000), message: '{"status":"500","path":"/pay"}' }
  ])
  expect(stored.status, JSON.stringify(stored.body)).toBe(201)
})
afterAll(async () => { await server.close() })

async function get (path: string, params: Record<string, string>): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}${path}?${new URLSearchParams(params).toString()}`)
  const text = await res.text()
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text }
}

/** Whether the three lines stored first are all still there. */
async function storedIntact (): Promise<void> {
  const res = await get('/logs', { service: 'x', limit: '10' })
  expect(res.status).toBe(200)
  expect(res.body.logs.map((l: { message: string }) => l.message.slice(0, 30))).toEqual(['{"status":"200","path":"/ok"}', deep(10_000).slice(0, 30), '{"status":"500","path":"/pay"}'])
}

describe('deeply nested JSON', () => {
  it('a 10,000-deep JSON line does not break | json queries, metric queries or detected_fields over it', async () => {
    const logs = await get('/loki/api/v1/query_range', { query: '{service="x"} | json', since: '1m' })
    expect(logs.status, JSON.stringify(logs.body).slice(0, 300)).toBe(200)
    const labels = logs.body.data.result.map((s: any) => s.stream)
    // The other lines are still parsed.
    expect(labels).toEqual(expect.arrayContaining([expect.objectContaining({ status: '500', path: '/pay' }), expect.objectContaining({ status: '200', path: '/ok' })]))
    const filtered = await get('/loki/api/v1/query_range', { query: '{service="x"} | json | status="500"', since: '1m' })
    expect(filtered.status, JSON.stringify(filtered.body).slice(0, 300)).toBe(200)
    expect(filtered.body.data.result).toHaveLength(1)
    const metric = await get('/loki/api/v1/query_range', { query: 'sum by (status) (count_over_time({service="x"} | json [1m]))', since: '1m', step: '60' })
    expect(metric.status, JSON.stringify(metric.body).slice(0, 300)).toBe(200)
    const fields = await get('/loki/api/v1/detected_fields', { query: '{service="x"}', since: '1m' })
    expect(fields.status, JSON.stringify(fields.body).slice(0, 300)).toBe(200)
    expect(fields.body.fields.map((f: { label: string }) => f.label)).toEqual(expect.arrayContaining(['path', 'status']))
  })

  it('refuses a deep OTLP JSON body with a 400 naming the depth limit', async () => {
    // An AnyValue kvlist nested 5000 levels in a log record's body.
    let value = '{"stringValue":"leaf"}'
    for (let i = 0; i < 5000; i++) value = `{"kvlistValue":{"values":[{"key":"a","value":${value}}]}}`
    const body = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"x"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"${Date.now()}000000","body":${value}}]}]}]}`
    const res = await fetch(`${url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const answer = await res.json() as { code: number, message: string }
    expect(res.status, JSON.stringify(answer).slice(0, 300)).toBe(400)
    expect(answer.message).toMatch(/deeper than 100 levels/)
    await storedIntact()
  })

  it('refuses a deep _bulk document with a 400 naming the depth limit', async () => {
    const body = `{"create":{"_index":"x"}}\n{"message":"deep","nested":${deep(10_000)}}\n`
    const res = await fetch(`${url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
    const answer = await res.json() as { errors: boolean, items: Array<{ create: { status: number, error?: { reason: string } } }> }
    expect(res.status, JSON.stringify(answer).slice(0, 300)).toBe(200)
    expect(answer.errors).toBe(true)
    expect(answer.items[0]!.create.status).toBe(400)
    expect(answer.items[0]!.create.error!.reason).toMatch(/deeper than 100 levels/)
    await storedIntact()
  })

  it('refuses a deep /insert/jsonline document, and 100,000 nested arrays, with a 400 naming the depth limit', async () => {
    for (const doc of [`{"_msg":"deep","nested":${deep(10_000)}}`, `{"_msg":"arrays","nested":${'['.repeat(100_000)}${']'.repeat(100_000)}}`]) {
      const res = await fetch(`${url}/insert/jsonline`, { method: 'POST', headers: { 'content-type': 'application/stream+json' }, body: doc + '\n' })
      const text = await res.text()
      expect(res.status, text.slice(0, 300)).toBe(400)
      expect(text).toMatch(/deeper than 100 levels/)
    }
    await storedIntact()
  })
})
