import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, runMain, startTestServer, type RunningServer } from './helpers.js'

// LIMITS_FILE against the real server with MULTI_TENANT on: Loki's
// limits_config keys per tenant (defaults, then overrides). Each refusal has
// its own code and metric reason; a burst over the ingestion rate is taken
// request by request, and what was answered 2xx is stored exactly.

const dir = mkdtempSync(join(tmpdir(), 'logagg-limits-'))
const file = join(dir, 'limits.yaml')
// About 105 bytes a second and a 4 KiB bucket for t-slow: one 1000-byte request refills in ~10 s.
const LIMITS = `defaults:
  ingestion_rate_mb: 100
  ingestion_burst_size_mb: 100
overrides:
  t-slow:
    ingestion_rate_mb: 0.0001
    ingestion_burst_size_mb: 0.004
  t-small:
    max_line_size: 100B
    max_label_names_per_series: 2
    max_structured_metadata_entries_count: 1
  t-query:
    max_query_length: 1h
    max_entries_limit_per_query: 10
    max_concurrent_tail_requests: 1
    max_query_series: 1
`

let server: RunningServer
let url: string
const logLines: string[] = []

beforeAll(async () => {
  writeFileSync(file, LIMITS)
  server = await startTestServer({ shards: 2, multiTenant: true, limitsFile: file, logLevel: 'info' }, logLines)
  url = server.url
})
afterAll(async () => {
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

const json = async (res: Response): Promise<any> => await res.json()
const org = (tenant: string): Record<string, string> => ({ 'x-scope-orgid': tenant })
const iso = (): string => new Date().toISOString()

async function ndjson (tenant: string, lines: Array<Record<string, unknown>>): Promise<Response> {
  return await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...org(tenant) }, body: lines.map((l) => JSON.stringify({ timestamp: iso(), ...l })).join('\n') })
}

async function messages (tenant: string, service: string): Promise<string[]> {
  const res = await fetch(`${url}/logs?service=${service}&limit=1000`, { headers: org(tenant) })
  expect(res.status).toBe(200)
  return ((await json(res)).logs as Array<{ message: string }>).map((l) => l.message)
}

describe('ingestion_rate_mb and ingestion_burst_size_mb', () => {
  it('a burst over the limit: the requests that fit are stored exactly, the rest get 429 with Retry-After naming the limit', async () => {
    const accepted: string[] = []
    const refused: Response[] = []
    for (let i = 0; i < 12; i++) {
      // One line of about 1000 bytes.
      const message = `burst ${String(i).padStart(2, '0')} ${'x'.repeat(940)}`
      const res = await ndjson('t-slow', [{ service: 'burst', message }])
      if (res.status === 201) accepted.push(message)
      else refused.push(res)
    }
    expect(accepted.length).toBeGreaterThanOrEqual(3)
    expect(refused.length).toBeGreaterThanOrEqual(1)
    for (const res of refused) {
      expect(res.status).toBe(429)
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      const body = await json(res)
      expect(body.code).toBe('LOGAGG_ERR_RATE_LIMITED')
      expect(body.error).toContain('ingestion_rate_mb 0.0001')
    }
    expect((await messages('t-slow', 'burst')).sort()).toEqual(accepted.sort())
    // Another tenant is not held back.
    for (let i = 0; i < 12; i++) expect((await ndjson('t-other', [{ service: 'burst', message: `other ${i} ${'y'.repeat(940)}` }])).status).toBe(201)
    // Each refusal is counted under its own reason.
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(new RegExp(`logagg_rejected_entries_total\\{protocol="logs",reason="ingestion_rate"\\} ${refused.length}\\b`))
    expect(metrics).toContain('logagg_admission_refusals_total{status="429",reason="ingestion_rate"}')
  })

  it('a request larger than the burst can never fit: 429 without Retry-After, saying to split it; Loki push answers in its text', async () => {
    const big = await ndjson('t-slow', [{ service: 'big', message: 'z'.repeat(5000) }])
    expect(big.status).toBe(429)
    expect(big.headers.get('retry-after')).toBeNull()
    expect((await json(big)).error).toContain('split it')
    const push = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json', ...org('t-slow') }, body: JSON.stringify({ streams: [{ stream: { service: 'big' }, values: [[`${Date.now()}000000`, 'q'.repeat(5000)]] }] }) })
    expect(push.status).toBe(429)
    expect(await push.text()).toContain('ingestion_burst_size_mb 0.004')
    expect(await messages('t-slow', 'big')).toEqual([])
  })
})

describe('limits on one entry', () => {
  it('max_line_size, max_label_names_per_series, max_structured_metadata_entries_count refuse the entry past them', async () => {
    const res = await ndjson('t-small', [
      { service: 'small', message: 'fits' },
      { service: 'small', message: 'l'.repeat(101) },
      { service: 'small', message: 'two attributes', attributes: { a: '1', b: '2' } },
      { service: 'small', message: 'one attribute', attributes: { a: '1' } }
    ])
    expect(res.status).toBe(400)
    const body = await json(res)
    expect(body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2])
    expect(body.rejected[0].error).toContain('max_line_size (100 bytes)')
    expect(body.rejected[1].error).toContain('max_structured_metadata_entries_count (1)')
    expect((await messages('t-small', 'small')).sort()).toEqual(['fits', 'one attribute'])
    // The same line is fine for a tenant with Loki's defaults (256 KB).
    expect((await ndjson('t-other', [{ service: 'small', message: 'l'.repeat(101) }])).status).toBe(201)
    // A Loki JSON push (checked on the front) with a stream of three labels is refused whole.
    const push = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json', ...org('t-small') }, body: JSON.stringify({ streams: [{ stream: { service: 'small', env: 'e', zone: 'z' }, values: [[`${Date.now()}000000`, 'three labels']] }] }) })
    expect(push.status).toBe(400)
    expect(await push.text()).toContain('max_label_names_per_series (2)')
    expect(await messages('t-small', 'small')).not.toContain('three labels')
  })
})

describe('limits on queries and tails', () => {
  it('max_query_length, max_entries_limit_per_query, max_query_series', async () => {
    expect((await ndjson('t-query', [{ service: 'q1', message: 'a' }, { service: 'q2', message: 'b' }])).status).toBe(201)
    const now = Date.now()
    const range = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent('{service="q1"}')}&start=${now - 2 * 3_600_000}000000&end=${now}000000`, { headers: org('t-query') })
    expect(range.status).toBe(400)
    expect(await range.text()).toContain('max_query_length (3600s)')
    const inside = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent('{service="q1"}')}&start=${now - 1_800_000}000000&end=${now}000000&limit=10`, { headers: org('t-query') })
    expect(inside.status).toBe(200)
    const many = await fetch(`${url}/logs?service=q1&limit=11&start=${encodeURIComponent(new Date(now - 600_000).toISOString())}`, { headers: org('t-query') })
    expect(many.status).toBe(400)
    expect((await json(many)).code).toBe('LOGAGG_ERR_QUERY_LIMIT')
    expect((await fetch(`${url}/logs?service=q1&limit=10&start=${encodeURIComponent(new Date(now - 600_000).toISOString())}`, { headers: org('t-query') })).status).toBe(200)
    const series = await fetch(`${url}/loki/api/v1/query?query=${encodeURIComponent('sum by (service) (count_over_time({service=~"q.+"}[10m]))')}`, { headers: org('t-query') })
    expect(series.status).toBe(400)
    expect(await series.text()).toContain('more than 1 series')
    // The same query is fine for a tenant with Loki's default of 500 series.
    expect((await ndjson('t-other', [{ service: 'q1', message: 'a' }, { service: 'q2', message: 'b' }])).status).toBe(201)
    expect((await fetch(`${url}/loki/api/v1/query?query=${encodeURIComponent('sum by (service) (count_over_time({service=~"q.+"}[10m]))')}`, { headers: org('t-other') })).status).toBe(200)
  })

  it('max_concurrent_tail_requests: one tail more than the tenant may hold answers 429', async () => {
    const first = new AbortController()
    const one = await fetch(`${url}/logs/tail?service=q1`, { headers: org('t-query'), signal: first.signal })
    expect(one.status).toBe(200)
    try {
      const two = await fetch(`${url}/logs/tail?service=q1`, { headers: org('t-query') })
      expect(two.status).toBe(429)
      expect((await json(two)).error).toContain('max_concurrent_tail_requests')
      // Another tenant's tail is not counted against it.
      const other = new AbortController()
      const three = await fetch(`${url}/logs/tail?service=q1`, { headers: org('t-other'), signal: other.signal })
      expect(three.status).toBe(200)
      other.abort()
    } finally {
      first.abort()
    }
    // Once the first is closed, the tenant may open one again.
    expect(await eventually(async () => {
      const c = new AbortController()
      const again = await fetch(`${url}/logs/tail?service=q1`, { headers: org('t-query'), signal: c.signal })
      c.abort()
      return again.status === 200
    }, 10_000)).toBe(true)
  })
})

describe('reloading LIMITS_FILE', () => {
  it('takes a changed file while traffic runs, and refuses a bad one (logged; the old limits stay)', async () => {
    const state = { running: true }
    const failures: number[] = []
    const traffic = (async () => {
      for (let i = 0; state.running && i < 5000; i++) {
        const res = await ndjson('t-steady', [{ service: 'steady', message: `s${i}` }])
        if (res.status !== 201) failures.push(res.status)
      }
    })()
    try {
      // t-small's line limit rises to 1 KB.
      writeFileSync(file, LIMITS.replace('max_line_size: 100B', 'max_line_size: 1KB'))
      expect(await eventually(async () => (await ndjson('t-small', [{ service: 'reload', message: 'm'.repeat(500) }])).status === 201, 10_000)).toBe(true)
      // A retention below the 1 minute floor: refused, logged, and the 1 KB limit stays.
      writeFileSync(file, `${LIMITS.replace('max_line_size: 100B', 'max_line_size: 1KB')}  t-bad:\n    retention_period: 30s\n`)
      expect(await eventually(() => logLines.some((l) => l.includes('LIMITS_FILE: the new file is refused') && l.includes('overrides.t-bad.retention_period is shorter than the 1m')), 10_000)).toBe(true)
      expect((await ndjson('t-small', [{ service: 'reload', message: 'n'.repeat(500) }])).status).toBe(201)
      // An unknown key is refused on SIGHUP too (server.reload is what SIGHUP calls).
      writeFileSync(file, `${LIMITS}  t-bad:\n    max_lines: 3\n`)
      server.reload()
      expect(logLines.some((l) => l.includes('"why":"SIGHUP"') && l.includes('unknown limit \\"max_lines\\"'))).toBe(true)
      expect((await ndjson('t-small', [{ service: 'reload', message: 'o'.repeat(500) }])).status).toBe(201)
      writeFileSync(file, LIMITS)
      server.reload()
      expect((await ndjson('t-small', [{ service: 'reload', message: 'p'.repeat(500) }])).status).toBe(400)
    } finally {
      state.running = false
      await traffic
    }
    expect(failures).toEqual([])
  })

  it('a bad file at start stops the server with one line naming LIMITS_FILE', async () => {
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'defaults:\n  retention_period: 48h\n')
    const run = await runMain({ PORT: '0', SHARDS: '1', LIMITS_FILE: bad, RETENTION: '24h' })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`LIMITS_FILE ${bad}: defaults.retention_period (172800s) is longer than RETENTION (86400s)`)
  })
})
