import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, isoAt, postJson, startFixtureServer, kTestInternals, startTestServer, type RunningServer } from './helpers.js'
import { program } from '../programs.js'

// GET /metrics over real HTTP: the Prometheus text, linted by Debian's
// promtool, counters that move with traffic, its own token, and a real
// Prometheus (Debian's) scraping it. .ci/run installs the prometheus package.

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Every sample of a Prometheus text answer, as `name{labels}` → value, labels in the order served. */
function samples (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const cut = line.lastIndexOf(' ')
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)))
  }
  return out
}

async function scrape (url: string, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return samples(await res.text())
}

/** The value of one sample, 0 when it is not there yet. */
const at = (m: Map<string, number>, key: string): number => m.get(key) ?? 0

function promtool (text: string): { status: number | null, output: string } {
  const run = spawnSync(program('promtool', 'prometheus'), ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (run.error !== undefined) throw new Error(`promtool did not run (${run.error.message}); install Debian's prometheus package (.ci/run does)`)
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

describe('GET /metrics', () => {
  it('passes promtool check metrics after every kind of traffic', async () => {
    server = await startTestServer({ shards: 2 })
    const url = server.url
    await postJson(url, [{ service: 'api', timestamp: isoAt(0), message: 'a' }, { service: 'api', message: 'no time' }])
    await fetch(`${url}/logs?service=api&since=5m`)
    await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent('{service="api"}')}`)
    await fetch(`${url}/no/such/route`)
    const text = await (await fetch(`${url}/metrics`)).text()
    const lint = promtool(text)
    expect(lint.output).toBe('')
    expect(lint.status).toBe(0)
    // The default process metrics are there too.
    expect(text).toMatch(/^process_cpu_user_seconds_total /m)
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m)
    // promtool does fail on a broken exposition, so the check above can fail.
    expect(promtool('# TYPE broken_total gauge\nbroken_total 1\n').status).not.toBe(0)
  })

  it('counts entries stored and rejected by protocol and reason, refusals, requests by route and queries', async () => {
    server = await startTestServer({ shards: 2, maxEntries: 6 })
    const url = server.url
    const before = await scrape(url)

    const batch = await postJson(url, [
      { service: 'api', timestamp: isoAt(0), message: 'one' },
      { service: 'db', timestamp: isoAt(0), message: 'two' },
      { service: 'api', message: 'no timestamp' }
    ])
    expect(batch.status).toBe(400)
    const ndjson = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `{"service":"web","timestamp":"${isoAt(0)}","message":"three"}\n{"service":"web"}\n` })
    expect(ndjson.status).toBe(400)
    const loki = await fetch(`${url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { service: 'lk' }, values: [[String(Date.now() * 1e6), 'four']] }] })
    })
    expect(loki.status).toBe(204)
    // The store holds 4 of MAX_ENTRIES 6: a batch of 5 is refused whole with 507.
    const full = await postJson(url, Array.from({ length: 5 }, (_, i) => ({ service: 'api', timestamp: isoAt(0), message: `over ${i}` })))
    expect(full.status).toBe(507)
    expect((await fetch(`${url}/logs?service=api&since=1h`)).status).toBe(200)
    expect((await fetch(`${url}/loki/api/v1/label/service/values`)).status).toBe(200)

    const after = await scrape(url)
    const delta = (key: string): number => at(after, key) - at(before, key)
    expect(delta('logagg_ingested_entries_total{protocol="logs"}')).toBe(3)
    expect(delta('logagg_ingested_entries_total{protocol="loki"}')).toBe(1)
    expect(delta('logagg_rejected_entries_total{protocol="logs",reason="invalid"}')).toBe(2)
    expect(delta('logagg_rejected_entries_total{protocol="logs",reason="store_full"}')).toBe(5)
    expect(delta('logagg_admission_refusals_total{status="507",reason="max_entries"}')).toBe(1)
    expect(delta('logagg_http_request_duration_seconds_count{route="/logs",method="POST",status_class="4xx"}')).toBe(2)
    expect(delta('logagg_http_request_duration_seconds_count{route="/logs",method="POST",status_class="5xx"}')).toBe(1)
    expect(delta('logagg_http_request_duration_seconds_count{route="/loki/api/v1/push",method="POST",status_class="2xx"}')).toBe(1)
    // Route patterns, never raw paths: label values stay bounded.
    expect(delta('logagg_http_request_duration_seconds_count{route="/loki/api/v1/label/:name/values",method="GET",status_class="2xx"}')).toBe(1)
    expect(delta('logagg_query_duration_seconds_count{route="/logs"}')).toBe(1)
    // The GET /logs for api examined the one api entry stored.
    expect(delta('logagg_query_scanned_entries_sum{route="/logs"}')).toBe(1)
    // What the shards hold, from the shards.
    let held = 0
    for (const shard of ['0', '1']) {
      held += at(after, `logagg_shard_entries{shard="${shard}"}`)
      expect(at(after, `logagg_shard_up{shard="${shard}"}`)).toBe(1)
      expect(at(after, `logagg_shard_stored_bytes{shard="${shard}"}`)).toBeGreaterThanOrEqual(0)
    }
    expect(held).toBe(4)
  })

  it('reports purges, restarts, tails and piscina timings from the shards', async () => {
    server = await startFixtureServer({ shards: 2, retention: 1000, purgeInterval: 100 })
    const url = server.url
    expect((await postJson(url, { service: 'api', timestamp: isoAt(0), message: 'soon gone' })).status).toBe(201)
    const purged = await eventually(async () => {
      const m = await scrape(url)
      return at(m, 'logagg_purged_entries_total{shard="0"}') + at(m, 'logagg_purged_entries_total{shard="1"}') === 1
    }, 10_000)
    expect(purged).toBe(true)
    const m = await scrape(url)
    expect(at(m, 'logagg_purge_runs_total{shard="0"}')).toBeGreaterThan(0)
    expect(at(m, 'logagg_shard_task_run_seconds{shard="0",percentile="50"}')).toBeGreaterThan(0)

    const tail = new AbortController()
    const res = await fetch(`${url}/logs/tail?service=api`, { signal: tail.signal })
    expect(res.status).toBe(200)
    expect(at(await scrape(url), 'logagg_tail_subscribers')).toBe(1)
    tail.abort()

    await server[kTestInternals].workers[1]!.sendRaw({ type: 'crash' }).catch(() => {})
    expect(await eventually(() => server!.router.shards[1]!.restarts === 1 && server!.router.shards[1]!.state === 'ready', 10_000)).toBe(true)
    const restarted = await scrape(url)
    expect(at(restarted, 'logagg_shard_restarts_total{shard="1"}')).toBe(1)
    expect(at(restarted, 'logagg_shard_restarts_total{shard="0"}')).toBe(0)
    expect(await eventually(async () => at(await scrape(url), 'logagg_tail_subscribers') === 0, 5000)).toBe(true)
  })

  it('reports the shards\' disk use with DATA_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logagg-metrics-data-'))
    try {
      server = await startTestServer({ shards: 2, dataDir: dir })
      const before = await scrape(server.url)
      expect(at(before, 'logagg_shard_disk_failing{shard="0"}')).toBe(0)
      expect((await postJson(server.url, Array.from({ length: 50 }, (_, i) => ({ service: `svc-${i % 5}`, timestamp: isoAt(0), message: `logged ${i}` })))).status).toBe(201)
      const after = await scrape(server.url)
      const grew = ['0', '1'].map((shard) => at(after, `logagg_shard_disk_bytes{shard="${shard}"}`) - at(before, `logagg_shard_disk_bytes{shard="${shard}"}`))
      expect(grew[0]! + grew[1]!).toBeGreaterThan(50 * 'logged 0'.length)
    } finally {
      await server?.close()
      server = undefined
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('is guarded by METRICS_TOKEN alone when it is set, and open when it is not', async () => {
    server = await startTestServer({ shards: 1, authToken: 'all-access' })
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200)
    await server.close()
    server = await startTestServer({ shards: 1, metricsToken: 'scrape-me', authToken: 'all-access', queryToken: 'reader' })
    const bare = await fetch(`${server.url}/metrics`)
    expect(bare.status).toBe(401)
    expect(((await bare.json()) as { error: string }).error).toMatch(/METRICS_TOKEN/)
    for (const token of ['all-access', 'reader']) expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401)
    await scrape(server.url, { authorization: 'Bearer scrape-me' })
  })
})

/** A free TCP port on loopback. */
async function freePort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

describe('a real Prometheus', () => {
  it('scrapes the server with METRICS_TOKEN and sees the counters move', async () => {
    server = await startTestServer({ shards: 2, metricsToken: 'prom-secret' })
    const target = new URL(server.url).host
    const dir = mkdtempSync(join(tmpdir(), 'logagg-prom-'))
    const promPort = await freePort()
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: logagg',
      '    authorization:',
      '      credentials: prom-secret',
      '    static_configs:',
      `      - targets: ['${target}']`,
      ''
    ].join('\n'))
    const prom = spawn(program('prometheus', 'prometheus'), [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    let promLog = ''
    prom.stderr.on('data', (d: Buffer) => { promLog += d.toString() })
    try {
      const promQuery = async (q: string): Promise<number | null> => {
        try {
          const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)
          const body = await res.json() as { data?: { result?: Array<{ value: [number, string] }> } }
          const first = body.data?.result?.[0]
          return first === undefined ? null : Number(first.value[1])
        } catch {
          return null
        }
      }
      const up = await eventually(async () => (await promQuery('up{job="logagg"}')) === 1, 20_000)
      expect(up, promLog.slice(-2000)).toBe(true)
      expect((await postJson(server.url, Array.from({ length: 7 }, (_, i) => ({ service: 'api', timestamp: isoAt(0), message: `m${i}` })))).status).toBe(201)
      const seen = await eventually(async () => (await promQuery('sum(logagg_ingested_entries_total{job="logagg"})')) === 7, 20_000)
      expect(seen, promLog.slice(-2000)).toBe(true)
      expect(await promQuery('sum(logagg_shard_entries{job="logagg"})')).toBe(7)
    } finally {
      prom.kill('SIGTERM')
      await new Promise((resolve) => prom.once('exit', resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
