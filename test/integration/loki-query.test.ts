import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type RunningServer } from './helpers.js'

// Loki's query API over HTTP against the real sharded server: the exact
// request Grafana's "Save & test" makes, LogQL log queries through
// query_range and query (selectors, line filters, label filters on stream
// labels and structured metadata, drop/keep, direction and limit), and 400s
// in Loki's error shape that name what is wrong or not supported. Entries go
// in through Loki push (JSON), so labels and metadata are Loki's own.

let server: RunningServer
let url: string
const baseMs = Date.now() - 60_000 // a minute ago
/** The time of entry k in ns, as text (ns past 2^53 are not exact as numbers). */
const ns = (k: number): string => `${baseMs + k}000000`

beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  url = server.url
  const streams = [
    { stream: { service: 'api', env: 'prod' }, values: [[ns(1), 'GET /orders 200'], [ns(3), 'GET /orders 500 error', { level: 'error', region: 'eu-west' }], [ns(5), 'POST /pay 201']] },
    { stream: { service: 'api', env: 'dev' }, values: [[ns(2), 'GET /orders 404', { level: 'warn', region: 'us-east' }]] },
    { stream: { service: 'db', env: 'prod' }, values: [[ns(4), 'slow query error took 2s', { level: 'error', region: 'eu-north' }]] },
    { stream: { app: 'worker' }, values: [[ns(6), 'a'.repeat(30_000)]] },
    { stream: { service: 'shop', format: 'json' }, values: [[ns(7), '{"status":500,"req":{"path":"/pay"}}'], [ns(8), '{"status":200,"req":{"path":"/cart"}}'], [ns(9), 'not json']] },
    { stream: { service: 'shop', format: 'logfmt' }, values: [[ns(7), 'level=error status=500 msg="card declined"'], [ns(8), 'level=info status=200']] }
  ]
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams }) })
  expect(res.status).toBe(204)
})
afterAll(async () => { await server.close() })

interface Streams { status: string, data: { resultType: string, result: Array<{ stream: Record<string, string>, values: unknown[][] }>, encodingFlags?: string[] } }

async function get (path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}${path}?${new URLSearchParams(params).toString()}`, { headers })
  return { status: res.status, body: await res.json() }
}

const range = async (query: string, more: Record<string, string> = {}): Promise<Streams> => {
  const res = await get('/loki/api/v1/query_range', { query, start: ns(0), end: ns(100), ...more })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as Streams
}

/** Every line of a streams answer, oldest first across its streams. */
const lines = (r: Streams): string[] => r.data.result.flatMap((s) => s.values as string[][])
  .sort((a, b) => a[0]!.localeCompare(b[0]!)).map((v) => v[1]!)

describe('Loki query API', () => {
  it('answers Grafana\'s Save & test query exactly', async () => {
    const res = await fetch(`${url}/loki/api/v1/query?direction=backward&query=vector(1)%2Bvector(1)&time=4000000000`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [4, '2'] }] } })
  })

  it('answers buildinfo with a Loki version', async () => {
    const { status, body } = await get('/loki/api/v1/status/buildinfo', {})
    expect(status).toBe(200)
    expect(body.version).toMatch(/^3\./)
  })

  it('runs a selector: streams with their labels and metadata, values as [ns, line], newest first by default', async () => {
    const r = await range('{service="api"}')
    expect(r.status).toBe('success')
    expect(r.data.resultType).toBe('streams')
    // Metadata joins the labels without categorize-labels, as Loki answers.
    expect(r.data.result).toEqual([
      { stream: { service: 'api', env: 'prod' }, values: [[ns(5), 'POST /pay 201'], [ns(1), 'GET /orders 200']] },
      { stream: { service: 'api', env: 'prod', level: 'error', region: 'eu-west' }, values: [[ns(3), 'GET /orders 500 error']] },
      { stream: { service: 'api', env: 'dev', level: 'warn', region: 'us-east' }, values: [[ns(2), 'GET /orders 404']] }
    ])
    expect(lines(await range('{service="api"}', { direction: 'forward', limit: '2' }))).toEqual(['GET /orders 200', 'GET /orders 404'])
  })

  it('matches labels with = != =~ !~ across services and shards', async () => {
    expect(lines(await range('{env="prod"}', { direction: 'forward' }))).toEqual(['GET /orders 200', 'GET /orders 500 error', 'slow query error took 2s', 'POST /pay 201'])
    expect(lines(await range('{service=~"api|db", env!="prod"}'))).toEqual(['GET /orders 404'])
    expect(lines(await range('{service!~"api|db", app=~".+"}'))).toEqual(['a'.repeat(30_000)])
    // Label regexes are anchored: "ap" does not match "api".
    expect(lines(await range('{service=~"ap"}'))).toEqual([])
  })

  it('applies line filters, with or, and regexes unanchored', async () => {
    expect(lines(await range('{env="prod"} |= "error"', { direction: 'forward' }))).toEqual(['GET /orders 500 error', 'slow query error took 2s'])
    expect(lines(await range('{env=~".+"} != "error" |= "GET"', { direction: 'forward' }))).toEqual(['GET /orders 200', 'GET /orders 404'])
    expect(lines(await range('{service="api"} |= "404" or "201"', { direction: 'forward' }))).toEqual(['GET /orders 404', 'POST /pay 201'])
    expect(lines(await range('{service="api"} |~ "[45]0[04]"', { direction: 'forward' }))).toEqual(['GET /orders 404', 'GET /orders 500 error'])
    expect(lines(await range('{service="api"} !~ "GET|POST"'))).toEqual([])
  })

  it('filters on labels and structured metadata, with and / or', async () => {
    expect(lines(await range('{env=~".+"} | level="error"', { direction: 'forward' }))).toEqual(['GET /orders 500 error', 'slow query error took 2s'])
    expect(lines(await range('{env=~".+"} | level="error", region=~"eu-n.*"'))).toEqual(['slow query error took 2s'])
    expect(lines(await range('{env=~".+"} | level="warn" or env="dev"'))).toEqual(['GET /orders 404'])
    expect(lines(await range('{service="api"} | region!~"eu.*"', { direction: 'forward' }))).toEqual(['GET /orders 200', 'GET /orders 404', 'POST /pay 201'])
  })

  it('parses lines with | json and | logfmt for label filters and grouping', async () => {
    expect(lines(await range('{service="shop", format="json"} | json | status=~"5.." | req_path="/pay"'))).toEqual(['{"status":500,"req":{"path":"/pay"}}'])
    expect(lines(await range('{service="shop", format="json"} | json | __error__="JSONParserErr"'))).toEqual(['not json'])
    expect(lines(await range('{service="shop"} | logfmt | level="error"'))).toEqual(['level=error status=500 msg="card declined"'])
    // The line's fields label the result streams (as in Loki), and line_format rewrites the lines shown.
    const formatted = await range('{service="shop", format="logfmt"} | logfmt | line_format "{{.level}}: {{ .msg }}"', { direction: 'forward' })
    expect(formatted.data.result.map((s) => [s.stream.level, s.values[0]![1]])).toEqual([['error', 'error: card declined'], ['info', 'info: ']])
    expect(formatted.data.result[0]!.stream).toEqual({ service: 'shop', format: 'logfmt', level: 'error', status: '500', msg: 'card declined' })
    const res = await get('/loki/api/v1/query_range', { query: 'sum by (status) (count_over_time({service="shop", format="logfmt"} | logfmt [1h]))', start: ns(100), end: ns(100) })
    expect(res.body.data.result.map((r: any) => `${JSON.stringify(r.metric)} ${r.values[0][1]}`).sort()).toEqual(['{"status":"200"} 1', '{"status":"500"} 1'])
  })

  it('answers detected_fields from recent lines: metadata, and what json and logfmt read, with types and cardinality', async () => {
    const shop = await get('/loki/api/v1/detected_fields', { query: '{service="shop"}', start: ns(0), end: ns(100) })
    expect(shop.status).toBe(200)
    expect(shop.body).toEqual({
      limit: 1000,
      fields: [
        { label: 'level', type: 'string', cardinality: 2, parsers: ['logfmt'] },
        { label: 'msg', type: 'string', cardinality: 1, parsers: ['logfmt'] },
        { label: 'req_path', type: 'string', cardinality: 2, parsers: ['json'] },
        { label: 'status', type: 'int', cardinality: 2, parsers: ['json', 'logfmt'] }
      ]
    })
    const api = await get('/loki/api/v1/detected_fields', { query: '{service="api"}', start: ns(0), end: ns(100) })
    expect(api.body.fields).toEqual([
      { label: 'level', type: 'string', cardinality: 2, parsers: null },
      { label: 'region', type: 'string', cardinality: 2, parsers: null }
    ])
  })

  it('drops and keeps labels of the result streams', async () => {
    const r = await range('{service="db"} | keep service')
    expect(r.data.result).toEqual([{ stream: { service: 'db' }, values: [[ns(4), 'slow query error took 2s']] }])
    const d = await range('{service="db"} | drop level, region')
    expect(d.data.result[0]!.stream).toEqual({ service: 'db', env: 'prod' })
  })

  it('keeps structured metadata apart with X-Loki-Response-Encoding-Flags: categorize-labels', async () => {
    const res = await get('/loki/api/v1/query_range', { query: '{service="db"}', start: ns(0), end: ns(100) }, { 'x-loki-response-encoding-flags': 'categorize-labels' })
    expect(res.body.data).toEqual({
      resultType: 'streams',
      encodingFlags: ['categorize-labels'],
      result: [{ stream: { service: 'db', env: 'prod' }, values: [[ns(4), 'slow query error took 2s', { structuredMetadata: { level: 'error', region: 'eu-north' } }]] }]
    })
  })

  it('takes since=<duration> and times relative to now', async () => {
    const since = await get('/loki/api/v1/query_range', { query: '{service="db"}', since: '5m' })
    expect(lines(since.body as Streams)).toEqual(['slow query error took 2s'])
    const relative = await get('/loki/api/v1/query_range', { query: '{service="db"}', start: 'now-5m', end: 'now' })
    expect(lines(relative.body as Streams)).toEqual(['slow query error took 2s'])
    expect((await get('/loki/api/v1/query_range', { query: '{service="db"}', start: 'now-30s' })).body.data.result).toEqual([])
    expect((await get('/loki/api/v1/query_range', { query: '{service="db"}', since: 'soon' })).status).toBe(400)
  })

  it('takes start and end as RFC 3339 and the instant query looks back from time', async () => {
    const iso = (k: number): string => new Date(baseMs + k).toISOString()
    expect(lines(await range('{service="api"}', { start: iso(2), end: iso(4), direction: 'forward' }))).toEqual(['GET /orders 404', 'GET /orders 500 error'])
    const instant = await get('/loki/api/v1/query', { query: '{service="db"}', time: ns(100) })
    expect(instant.body.data.result[0].values[0][1]).toBe('slow query error took 2s')
  })

  it('runs a pattern that makes backtracking engines explode, on a 30,000-character line, within a second', async () => {
    const started = Date.now()
    const r = await range('{app="worker"} |~ "(a+)+$" |~ "(a|aa)+b"')
    expect(lines(r)).toEqual([])
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('counts on the shards: count_over_time, rate, bytes_over_time, sum by, topk, the volume query Grafana sends', async () => {
    // One step a second from entry 0 to entry 10 (in ms: one step covers all six entries' ms).
    const at = (k: number): number => (baseMs + k) / 1000
    const metric = async (query: string, more: Record<string, string> = {}): Promise<any> => {
      const res = await get('/loki/api/v1/query_range', { query, start: ns(0), end: ns(10), step: '0.002', ...more })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body.data.resultType).toBe('matrix')
      return res.body.data.result
    }
    const byMetric = (result: any[]): Record<string, Array<[number, string]>> => Object.fromEntries(result.map((r) => [JSON.stringify(r.metric), r.values]))
    // Windows of 2 ms ending every 2 ms: (t − 2ms, t].
    expect(byMetric(await metric('sum(count_over_time({env=~".+"}[2ms]))'))).toEqual({
      '{}': [[at(2), '2'], [at(4), '2'], [at(6), '1']]
    })
    expect(byMetric(await metric('sum by (level) (count_over_time({env=~".+"} | drop __error__ [2ms]))'))).toEqual({
      '{}': [[at(2), '1'], [at(6), '1']],
      '{"level":"warn"}': [[at(2), '1']],
      '{"level":"error"}': [[at(4), '2']]
    })
    expect(byMetric(await metric('count_over_time({service="db"}[2ms])'))).toEqual({
      '{"env":"prod","level":"error","region":"eu-north","service":"db"}': [[at(4), '1']]
    })
    expect(byMetric(await metric('sum(rate({service="api"}[2ms])) * 2'))).toEqual({
      '{}': [[at(2), '2000'], [at(4), '1000'], [at(6), '1000']]
    })
    expect(byMetric(await metric('sum by (service) (bytes_over_time({env="prod"}[10ms]))', { step: '0.01' }))).toEqual({
      '{"service":"api"}': [[at(10), String('GET /orders 200'.length + 'GET /orders 500 error'.length + 'POST /pay 201'.length)]],
      '{"service":"db"}': [[at(10), String('slow query error took 2s'.length)]]
    })
    const top = await metric('topk(1, sum by (service) (count_over_time({env=~".+"}[10ms])))', { step: '0.01' })
    expect(top).toEqual([{ metric: { service: 'api' }, values: [[at(10), '4']] }])
    // Grafana's log-volume query, as its data source builds it: detected_level is each entry's
    // level-like label or, without one, the level word in its line ("unknown" when none), as Loki answers it.
    const volume = await get('/loki/api/v1/query_range', { query: 'sum by (level, detected_level) (count_over_time({service="api"} |= "GET" | drop __error__ [5ms]))', start: ns(0), end: ns(10), step: '0.005' })
    expect(byMetric(volume.body.data.result)).toEqual({
      '{"detected_level":"unknown"}': [[at(5), '1']],
      '{"detected_level":"warn","level":"warn"}': [[at(5), '1']],
      '{"detected_level":"error","level":"error"}': [[at(5), '1']]
    })
    const byLine = await get('/loki/api/v1/query_range', { query: 'sum by (detected_level) (count_over_time({service="api"} |= "500" [5ms]))', start: ns(0), end: ns(10), step: '0.005' })
    expect(byMetric(byLine.body.data.result)).toEqual({ '{"detected_level":"error"}': [[at(5), '1']] })
    // An instant metric query answers a vector.
    const instant = await get('/loki/api/v1/query', { query: 'sum(count_over_time({service="api"}[1h]))', time: ns(100) })
    expect(instant.body.data).toEqual({ resultType: 'vector', result: [{ metric: {}, value: [at(100), '4'] }] })
  })

  it('compares and combines series: == != > >= < <=, bool, and / or / unless, with PromQL precedence', async () => {
    const at = (k: number): number => (baseMs + k) / 1000
    const metric = async (query: string): Promise<Record<string, Array<[number, string]>>> => {
      const res = await get('/loki/api/v1/query_range', { query, start: ns(0), end: ns(10), step: '0.01' })
      expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200)
      return Object.fromEntries(res.body.data.result.map((r: any) => [JSON.stringify(r.metric), r.values]))
    }
    const byService = 'sum by (service) (count_over_time({env=~".+"}[10ms]))'
    // api has 4 entries, db 1.
    expect(await metric(`${byService} > 1`)).toEqual({ '{"service":"api"}': [[at(10), '4']] })
    expect(await metric(`${byService} > bool 1`)).toEqual({ '{"service":"api"}': [[at(10), '1']], '{"service":"db"}': [[at(10), '0']] })
    expect(await metric(`2 <= ${byService}`)).toEqual({ '{"service":"api"}': [[at(10), '4']] })
    expect(await metric(`${byService} == 1`)).toEqual({ '{"service":"db"}': [[at(10), '1']] })
    expect(await metric(`${byService} != 1`)).toEqual({ '{"service":"api"}': [[at(10), '4']] })
    // Arithmetic binds tighter than a comparison: (4 - 3) > 0 and (1 - 3) > 0.
    expect(await metric(`${byService} - 3 > 0`)).toEqual({ '{"service":"api"}': [[at(10), '1']] })
    // Between numbers a comparison is 1 or 0.
    const scalar = await get('/loki/api/v1/query', { query: '1 < 2', time: ns(10) })
    expect(scalar.body.data).toEqual({ resultType: 'scalar', result: [expect.any(Number), '1'] })
    const dbOnly = 'sum by (service) (count_over_time({service="db"}[10ms]))'
    expect(await metric(`${byService} unless ${dbOnly}`)).toEqual({ '{"service":"api"}': [[at(10), '4']] })
    expect(await metric(`${byService} and ${dbOnly}`)).toEqual({ '{"service":"db"}': [[at(10), '1']] })
    expect(await metric(`${byService} > 1 or ${dbOnly}`)).toEqual({ '{"service":"api"}': [[at(10), '4']], '{"service":"db"}': [[at(10), '1']] })
    const refused = await get('/loki/api/v1/query_range', { query: `${byService} and 1`, start: ns(0), end: ns(10), step: '0.01' })
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatch(/and takes a vector on both sides/)
    const onRefused = await get('/loki/api/v1/query_range', { query: `${byService} > on (service) ${dbOnly}`, start: ns(0), end: ns(10), step: '0.01' })
    expect(onRefused.body.error).toMatch(/on\(\), ignoring\(\) and group_left\/right are not supported/)
  })

  it('moves windows back with offset and rewrites labels with label_replace', async () => {
    const at = (k: number): number => (baseMs + k) / 1000
    const metric = async (query: string, step = '0.002'): Promise<Record<string, Array<[number, string]>>> => {
      const res = await get('/loki/api/v1/query_range', { query, start: ns(0), end: ns(10), step })
      expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200)
      return Object.fromEntries(res.body.data.result.map((r: any) => [JSON.stringify(r.metric), r.values]))
    }
    // Without offset (as above): 2, 2, 1 at 2, 4, 6 ms; offset 2ms shows each count 2 ms later.
    expect(await metric('sum(count_over_time({env=~".+"}[2ms] offset 2ms))')).toEqual({ '{}': [[at(4), '2'], [at(6), '2'], [at(8), '1']] })
    expect(await metric('sum(count_over_time({env=~".+"}[2ms] offset -2ms))')).toEqual({ '{}': [[at(0), '2'], [at(2), '2'], [at(4), '1']] })
    const byService = 'sum by (service) (count_over_time({env=~".+"}[10ms]))'
    expect(await metric(`label_replace(${byService}, "team", "team-$1", "service", "(a.*)")`, '0.01')).toEqual({
      '{"service":"api","team":"team-api"}': [[at(10), '4']],
      '{"service":"db"}': [[at(10), '1']]
    })
    expect(await metric(`label_replace(${byService}, "service", "", "service", "db")`, '0.01')).toEqual({
      '{"service":"api"}': [[at(10), '4']],
      '{}': [[at(10), '1']]
    })
    expect(await metric(`label_replace(${byService}, "x", "\${name}$$", "service", "(?P<name>d)b")`, '0.01')).toEqual({
      '{"service":"api"}': [[at(10), '4']],
      '{"service":"db","x":"d$"}': [[at(10), '1']]
    })
    const bad = await get('/loki/api/v1/query_range', { query: `label_replace(${byService}, "x", "", "service", "(")`, start: ns(0), end: ns(10), step: '0.01' })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/not valid RE2 syntax/)
  })

  it('aggregates with stddev, stdvar, bottomk, sort and sort_desc', async () => {
    const at = (k: number): number => (baseMs + k) / 1000
    const metric = async (query: string): Promise<Array<[string, Array<[number, string]>]>> => {
      const res = await get('/loki/api/v1/query_range', { query, start: ns(0), end: ns(10), step: '0.01' })
      expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200)
      return res.body.data.result.map((r: any) => [JSON.stringify(r.metric), r.values])
    }
    // api has 4 entries, db 1: mean 2.5, variance 2.25.
    const byService = 'sum by (service) (count_over_time({env=~".+"}[10ms]))'
    expect(await metric(`stdvar(${byService})`)).toEqual([['{}', [[at(10), '2.25']]]])
    expect(await metric(`stddev(${byService})`)).toEqual([['{}', [[at(10), '1.5']]]])
    expect(await metric(`bottomk(1, ${byService})`)).toEqual([['{"service":"db"}', [[at(10), '1']]]])
    const instant = async (query: string): Promise<string[]> => {
      const res = await get('/loki/api/v1/query', { query, time: ns(10) })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body.data.result.map((r: any) => `${r.metric.service as string}=${r.value[1] as string}`)
    }
    expect(await instant(`sort(${byService})`)).toEqual(['db=1', 'api=4'])
    expect(await instant(`sort_desc(${byService})`)).toEqual(['api=4', 'db=1'])
    const refused = await get('/loki/api/v1/query', { query: `bottomk(${byService})`, time: ns(10) })
    expect(refused.status).toBe(400)
  })

  it('serves the label browser: label names, values, series and index stats, from stream labels', async () => {
    const window = { start: ns(0), end: ns(100) }
    expect((await get('/loki/api/v1/labels', window)).body).toEqual({ status: 'success', data: ['app', 'env', 'format', 'service'] })
    expect((await get('/loki/api/v1/label/service/values', window)).body.data).toEqual(['api', 'db', 'shop', 'worker'])
    expect((await get('/loki/api/v1/label/env/values', { ...window, query: '{service="api"}' })).body.data).toEqual(['dev', 'prod'])
    expect((await get('/loki/api/v1/labels', { ...window, query: '{app="worker"}' })).body.data).toEqual(['app', 'service'])
    const series = await fetch(`${url}/loki/api/v1/series?${new URLSearchParams([['match[]', '{service="api"}'], ['match[]', '{service="db"}'], ['start', ns(0)], ['end', ns(100)]]).toString()}`)
    const found = ((await series.json()) as { data: Array<Record<string, string>> }).data
    expect(found.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { env: 'dev', service: 'api' }, { env: 'prod', service: 'api' }, { env: 'prod', service: 'db' }
    ])
    const stats = await get('/loki/api/v1/index/stats', { ...window, query: '{env="prod"}' })
    expect(stats.body).toMatchObject({ streams: 2, entries: 4 })
    expect(stats.body.chunks).toBeGreaterThanOrEqual(2)
    expect(stats.body.bytes).toBeGreaterThan(0)
    // Outside the time range nothing is listed.
    expect((await get('/loki/api/v1/labels', { start: ns(-100_000), end: ns(-50_000) })).body.data).toEqual([])
  })

  it('compares label values as numbers, durations and byte sizes, as Loki reads them', async () => {
    expect(lines(await range('{service="shop", format="logfmt"} | logfmt | status >= 500'))).toEqual(['level=error status=500 msg="card declined"'])
    expect(lines(await range('{service="shop", format="json"} | json | status < 500.5 and status != 500'))).toEqual(['{"status":200,"req":{"path":"/cart"}}'])
    // An entry without the label fails a comparison: these lines have no `took` label.
    expect(lines(await range('{service="db"} | took > 1s'))).toEqual([])
    const res = await fetch(`${url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { service: 'units' }, values: [[ns(20), 'took=250ms size=2KiB n=1e3'], [ns(21), 'took=1.5s size=900 n=12'], [ns(22), 'took=soon size=lots n=x']] }] })
    })
    expect(res.status).toBe(204)
    const q = async (filter: string): Promise<string[]> => lines(await range(`{service="units"} | logfmt | ${filter}`))
    // A value that does not read as the unit passes, as in Loki (which also marks it with __error__).
    expect(await q('took >= 250ms')).toEqual(['took=250ms size=2KiB n=1e3', 'took=1.5s size=900 n=12', 'took=soon size=lots n=x'])
    expect(await q('took > 1s')).toEqual(['took=1.5s size=900 n=12', 'took=soon size=lots n=x'])
    expect(await q('took <= 250ms')).toEqual(['took=250ms size=2KiB n=1e3', 'took=soon size=lots n=x'])
    expect(await q('size >= 2KB')).toEqual(['took=250ms size=2KiB n=1e3', 'took=soon size=lots n=x'])
    expect(await q('size < 1KB')).toEqual(['took=1.5s size=900 n=12', 'took=soon size=lots n=x'])
    expect(await q('n == 1000')).toEqual(['took=250ms size=2KiB n=1e3', 'took=soon size=lots n=x'])
    expect(await q('took < 1s or (n > 10 and n < 20)')).toEqual(['took=250ms size=2KiB n=1e3', 'took=1.5s size=900 n=12', 'took=soon size=lots n=x'])
    const counted = await get('/loki/api/v1/query', { query: 'sum(count_over_time({service="units"} | logfmt | took > 200ms, size > 1000 [1h]))', time: ns(100) })
    expect(counted.status, JSON.stringify(counted.body)).toBe(200)
    expect(counted.body.data.result[0].value[1]).toBe('2')
  })

  it('filters lines and labels by ip("…"): an address, a CIDR prefix or a range', async () => {
    const res = await fetch(`${url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { service: 'edge' }, values: [[ns(30), 'peer=10.1.2.3 GET /a'], [ns(31), 'peer=192.168.7.7 GET /b'], [ns(32), 'peer=2001:db8::9 GET /c'], [ns(33), 'no address here']] }] })
    })
    expect(res.status).toBe(204)
    const q = async (pipeline: string): Promise<string[]> => lines(await range(`{service="edge"} ${pipeline}`))
    expect(await q('|= ip("10.0.0.0/8")')).toEqual(['peer=10.1.2.3 GET /a'])
    expect(await q('!= ip("10.0.0.0/8")')).toEqual(['peer=192.168.7.7 GET /b', 'peer=2001:db8::9 GET /c', 'no address here'])
    expect(await q('|= ip("2001:db8::/32")')).toEqual(['peer=2001:db8::9 GET /c'])
    expect(await q('| logfmt | peer=ip("192.168.7.1-192.168.7.9")')).toEqual(['peer=192.168.7.7 GET /b'])
    // Without the label an entry fails both = and !=.
    expect(await q('| logfmt | peer!=ip("192.168.0.0/16")')).toEqual(['peer=10.1.2.3 GET /a', 'peer=2001:db8::9 GET /c'])
    const bad = await get('/loki/api/v1/query_range', { query: '{service="edge"} |= ip("10.0.0.0/99")' })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/is not an address, a CIDR prefix/)
  })

  it('runs functions over unwrapped label values: sum, avg, min, max, stddev, stdvar, quantile, first, last', async () => {
    const res = await fetch(`${url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        streams: [
          { stream: { service: 'lat', pod: 'a' }, values: [[ns(40), 'took=100ms size=1KiB n=1'], [ns(41), 'took=300ms size=3KiB n=2'], [ns(42), 'took=oops size=x n=y']] },
          { stream: { service: 'lat', pod: 'b' }, values: [[ns(43), 'took=1.5s size=2KB n=6']] }
        ]
      })
    })
    expect(res.status).toBe(204)
    const value = async (query: string): Promise<Record<string, string>> => {
      const r = await get('/loki/api/v1/query', { query, time: ns(50) })
      expect(r.status, `${query}: ${JSON.stringify(r.body)}`).toBe(200)
      return Object.fromEntries(r.body.data.result.map((x: any) => [JSON.stringify(x.metric), x.value[1]]))
    }
    const sel = '{service="lat"} | logfmt'
    // The unwrapped label leaves the series' labels; the other parsed fields stay, so sum by () groups.
    expect(await value(`sum(sum_over_time(${sel} | unwrap n [1h]))`)).toEqual({ '{}': '9' })
    expect(await value(`sum by (pod) (sum_over_time(${sel} | unwrap n | __error__="" [1h]))`)).toEqual({ '{"pod":"a"}': '3', '{"pod":"b"}': '6' })
    // The function's own by (…): the values of a group, then the function.
    expect(await value(`avg_over_time(${sel} | unwrap n [1h]) by (service)`)).toEqual({ '{"service":"lat"}': '3' })
    expect(await value(`max_over_time(${sel} | unwrap duration(took) [1h]) by (pod)`)).toEqual({ '{"pod":"a"}': '0.3', '{"pod":"b"}': '1.5' })
    expect(await value(`min_over_time(${sel} | unwrap bytes(size) [1h]) without (took, n, size)`)).toEqual({ '{"pod":"a","service":"lat"}': '1024', '{"pod":"b","service":"lat"}': '2000' })
    expect(await value(`quantile_over_time(0.5, ${sel} | unwrap n [1h]) by ()`)).toEqual({ '{}': '2' })
    expect(await value(`stdvar_over_time(${sel} | unwrap n [1h]) by ()`)).toEqual({ '{}': String(((1 - 3) ** 2 + (2 - 3) ** 2 + (6 - 3) ** 2) / 3) })
    expect(await value(`stddev_over_time(${sel} | pod="a" | unwrap n [1h]) by ()`)).toEqual({ '{}': '0.5' })
    expect(await value(`first_over_time(${sel} | unwrap n [1h]) by ()`)).toEqual({ '{}': '1' })
    expect(await value(`last_over_time(${sel} | unwrap n [1h]) by ()`)).toEqual({ '{}': '6' })
    // Windows: the last 2 ms before ns(50) hold nothing.
    expect(await value(`sum(sum_over_time(${sel} | unwrap n [2ms]))`)).toEqual({})
    for (const [query, message] of [
      [`sum_over_time(${sel} [1h])`, /takes the values of a label: add \| unwrap/],
      [`count_over_time(${sel} | unwrap n [1h])`, /counts entries and takes no \| unwrap/],
      [`count_over_time(${sel} [1h]) by (pod)`, /takes no by or without of its own/],
      [`sum_over_time(${sel} | unwrap n | __error__!="" [1h])`, /only \| __error__="" is supported/]
    ] as const) {
      const r = await get('/loki/api/v1/query', { query, time: ns(50) })
      expect(r.status, query).toBe(400)
      expect(r.body.error, query).toMatch(message)
    }
  })

  it('refuses what it cannot run with a 400 in Loki\'s shape that names the part', async () => {
    const cases: Array<[string, RegExp]> = [
      ['absent_over_time({service="api"}[1m])', /absent_over_time is not supported/],
      ['{service="api"} | decolorize', /decolorize is not supported/],
      ['{service="api"} | regexp "(?P<x>.)"', /parser stages other than .* not supported/],
      ['{service="api"} |~ ip("1.2.3.4")', /ip\(\) line filters take \|= or !=/],
      ['{service="api"} | status >= 4x0', /syntax error|is not a number/],
      ['{service=', /syntax error at character/],
      ['{service=""}', /at least one matcher that does not match the empty value/],
      ['{service!~"api|db"}', /at least one matcher that does not match the empty value/],
      ['{service=~"("}', /not valid RE2 syntax/],
      ['{service="api"} |~ "a)"', /not valid RE2 syntax/]
    ]
    for (const [query, message] of cases) {
      const res = await get('/loki/api/v1/query_range', { query })
      expect(res.status, query).toBe(400)
      expect(res.body.status).toBe('error')
      expect(res.body.error, query).toMatch(message)
    }
    const noQuery = await get('/loki/api/v1/query_range', {})
    expect(noQuery.status).toBe(400)
    expect(noQuery.body.error).toMatch(/query is missing/)
    const badLimit = await get('/loki/api/v1/query_range', { query: '{service="api"}', limit: '6000' })
    expect(badLimit.body.error).toMatch(/limit/)
  })

  it('answers the requests Grafana\'s Loki data source makes, as it makes them', async () => {
    const grafana = { 'x-query-tags': 'Source=grafana', 'x-grafana-org-id': '1', 'x-loki-response-encoding-flags': 'categorize-labels', accept: 'application/json, text/plain, */*' }
    const call = async (path: string): Promise<any> => {
      const res = await fetch(`${url}${path}`, { headers: grafana })
      expect(res.status, path).toBe(200)
      return await res.json()
    }
    const start = ns(0)
    const end = ns(100)
    // Explore, a log query: newest first, a step in ms, structured metadata kept apart.
    const logs = await call(`/loki/api/v1/query_range?direction=backward&end=${end}&limit=1000&query=${encodeURIComponent('{service="db"}')}&start=${start}&step=2000ms`)
    expect(logs.data.encodingFlags).toEqual(['categorize-labels'])
    expect(logs.data.result[0].values[0]).toEqual([ns(4), 'slow query error took 2s', { structuredMetadata: { level: 'error', region: 'eu-north' } }])
    // The log-volume histogram, written as Grafana writes it (no space before the range).
    const volume = await call(`/loki/api/v1/query_range?direction=backward&end=${end}&limit=1000&query=${encodeURIComponent('sum by (level, detected_level) (count_over_time({service="api"} | drop __error__[1s]))')}&start=${start}&step=50ms`)
    expect(volume.data.resultType).toBe('matrix')
    expect(volume.data.result.map((r: any) => r.metric.level ?? '').sort()).toEqual(['', 'error', 'warn'])
    // The label browser.
    expect((await call(`/loki/api/v1/labels?start=${start}&end=${end}`)).data).toContain('service')
    expect((await call(`/loki/api/v1/label/service/values?start=${start}&end=${end}`)).data).toContain('api')
    expect((await call(`/loki/api/v1/series?match%5B%5D=${encodeURIComponent('{service="api"}')}&start=${start}&end=${end}`)).data.length).toBe(2)
    expect(await call(`/loki/api/v1/index/stats?query=${encodeURIComponent('{service="api"}')}&start=${start}&end=${end}`)).toMatchObject({ streams: 2, entries: 4 })
  })

  it('answers any query text with 200 or 400, never a 5xx (random and mutated LogQL over HTTP)', async () => {
    const seeds = ['{service="api"} |= "GET" | level="error"', 'sum by (level) (count_over_time({env=~".+"}[1m]))', 'topk(2, rate({service=~"a.*"}[5m]))', '{service="db"} | keep service']
    const mutated = fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat({ max: 4 }), fc.string({ maxLength: 3 }))
      .map(([q, at, cut, insert]) => { const i = at % (q.length + 1); return q.slice(0, i) + insert + q.slice(i + cut) })
    await fc.assert(fc.asyncProperty(fc.oneof(mutated, fc.string({ maxLength: 40 })), async (query) => {
      const res = await fetch(`${url}/loki/api/v1/query_range?${new URLSearchParams({ query, start: ns(0), end: ns(100), step: '1' }).toString()}`)
      expect([200, 400], query).toContain(res.status)
      const body = await res.json() as { status: string }
      expect(body.status).toBe(res.status === 200 ? 'success' : 'error')
    }), { numRuns: 150 })
  })

  it('takes the parameters as a form body too', async () => {
    const res = await fetch(`${url}/loki/api/v1/query_range`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: '{service="db"}', start: ns(0), end: ns(100) }).toString()
    })
    expect(res.status).toBe(200)
    expect(lines(await res.json() as Streams)).toEqual(['slow query error took 2s'])
  })
})
