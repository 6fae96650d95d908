import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type RunningServer } from './helpers.js'

// The metric-query attack of issue 18, scaled down: distinct JSON lines
// grouped by `| json` make one series per line, and a tiny step makes
// 11,000 points each. Before the limits, 3000 such series blocked the front
// thread for 51 s and 300 made a 69 MB answer; now the shards stop at
// MAX_QUERY_SERIES / MAX_QUERY_SAMPLES and the query answers 400 in Loki's
// shape naming the limit, while /healthz stays fast.

let server: RunningServer
let url: string
const baseMs = Date.now() - 30_000
const ns = (ms: number): string => `${ms}000000`
const LINES = 600

beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  url = server.url
  // Every line a distinct JSON document, one a millisecond from the start of the range (11 s: 11,000 points at step 1ms).
  const values = Array.from({ length: LINES }, (_, k) => [ns(baseMs + k), JSON.stringify({ id: `req-${k}`, status: 200 + (k % 3) })])
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams: [{ stream: { service: 'x' }, values }] }) })
  expect(res.status).toBe(204)
})
afterAll(async () => { await server.close() })

async function range (query: string, step: string): Promise<{ status: number, body: any, ms: number }> {
  const params = new URLSearchParams({ query, start: ns(baseMs), end: ns(baseMs + 10_999), step })
  const started = performance.now()
  const res = await fetch(`${url}/loki/api/v1/query_range?${params.toString()}`)
  // The server runs in this process: the body is parsed only when read, after the /healthz probes stopped,
  // so the client's own JSON.parse of a large answer is not counted as the server's.
  const bytes = Buffer.from(await res.arrayBuffer())
  const ms = performance.now() - started
  let body: unknown
  return { status: res.status, ms, get body () { return (body ??= JSON.parse(bytes.toString('utf8'))) } }
}

/** Runs `query` while /healthz is asked again and again; the slowest /healthz answer in ms. */
async function healthzDuring<T> (query: Promise<T>): Promise<{ result: T, worstMs: number }> {
  const answered = new AbortController()
  let worstMs = 0
  const probe = (async () => {
    // Bounded: at most 200 probes, and it stops as soon as the query is answered.
    for (let i = 0; i < 200 && !answered.signal.aborted; i++) {
      const started = performance.now()
      const res = await fetch(`${url}/healthz`)
      await res.text()
      expect(res.status).toBe(200)
      worstMs = Math.max(worstMs, performance.now() - started)
    }
  })()
  const result = await query.finally(() => { answered.abort() })
  await probe
  return { result, worstMs }
}

describe('metric query limits', () => {
  it('refuses a | json grouping at a tiny step with a 400 naming MAX_QUERY_SAMPLES, quickly, while /healthz stays fast', async () => {
    const { result, worstMs } = await healthzDuring(range('count_over_time({service="x"} | json [1h])', '0.001'))
    expect(result.status, JSON.stringify(result.body).slice(0, 300)).toBe(400)
    expect(result.body.status).toBe('error')
    expect(result.body.errorType).toBe('bad_data')
    expect(result.body.error).toMatch(/MAX_QUERY_SAMPLES/)
    expect(result.body.error).toMatch(/raise step/)
    expect(result.ms).toBeLessThan(2000)
    expect(worstMs).toBeLessThan(1000)
  })

  it('refuses more series than MAX_QUERY_SERIES (500, as Loki) with a 400, also under topk', async () => {
    for (const query of ['count_over_time({service="x"} | json [1h])', 'topk(1, count_over_time({service="x"} | json [1h]))']) {
      const { result, worstMs } = await healthzDuring(range(query, '1'))
      expect(result.status, JSON.stringify(result.body).slice(0, 300)).toBe(400)
      expect(result.body.error).toMatch(/MAX_QUERY_SERIES/)
      expect(result.body.error).toMatch(/sum by/)
      expect(worstMs).toBeLessThan(1000)
    }
  })

  it('still answers a normal metric query over the same lines', async () => {
    const res = await range('sum by (status) (count_over_time({service="x"} | json [1h]))', '1')
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
    const totals = Object.fromEntries(res.body.data.result.map((r: any) => [r.metric.status, Number(r.values.at(-1)[1])]))
    expect(totals).toEqual({ 200: 200, 201: 200, 202: 200 })
  })
})

describe('metric answers within the limits', () => {
  it('streams a large matrix (100 series × 5500 points, about 11 MB) in chunks while /healthz stays fast', async () => {
    const query = 'count_over_time({service="x"} |~ "\\"req-[0-9]{1,2}\\"" | json [1h])'
    const { result, worstMs } = await healthzDuring(range(query, '0.002'))
    expect(result.status, JSON.stringify(result.body).slice(0, 300)).toBe(200)
    expect(result.body.data.result).toHaveLength(100)
    expect(result.body.data.result[0].values).toHaveLength(5500)
    // Measured: one JSON.stringify of this answer held the front 260-330 ms; written in chunks, /healthz waits about 25 ms.
    expect(worstMs).toBeLessThan(200)
  })

  it('refuses an answer over MAX_PAGE_BYTES with a 400 naming it, before any byte is sent', async () => {
    const small = await startTestServer({ shards: 2, maxPageBytes: 65_536 })
    try {
      const values = Array.from({ length: 200 }, (_, k) => [ns(baseMs + k), JSON.stringify({ id: `req-${k}` })])
      const push = await fetch(`${small.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams: [{ stream: { service: 'x' }, values }] }) })
      expect(push.status).toBe(204)
      const params = new URLSearchParams({ query: 'count_over_time({service="x"} | json [1h])', start: ns(baseMs), end: ns(baseMs + 10_999), step: '0.1' })
      const res = await fetch(`${small.url}/loki/api/v1/query_range?${params.toString()}`)
      const body = await res.json() as { status: string, error: string }
      expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(400)
      expect(body.status).toBe('error')
      expect(body.error).toMatch(/MAX_PAGE_BYTES \(65536 bytes\)/)
      // The same query at a step the answer fits in.
      params.set('step', '10')
      expect((await fetch(`${small.url}/loki/api/v1/query_range?${params.toString()}`)).status).toBe(200)
    } finally {
      await small.close()
    }
  })
})
