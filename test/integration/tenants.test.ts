import { createSocket } from 'node:dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { eventually, startTestServer, type RunningServer } from './helpers.js'

// MULTI_TENANT against the real sharded server: every request names its
// tenant in X-Scope-OrgID, and every endpoint (ingest of each protocol,
// GET /logs, /services, the Loki query and label API, volume,
// detected_fields, both kinds of tail) sees that tenant's entries alone. Two
// tenants use the same service names on purpose: only the tenant tells them apart.

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 3, multiTenant: true, syslogUdpPort: 0, syslogUdpTenant: 'syslog-t' })
  url = server.url
})
afterAll(async () => { await server?.close() })

const json = async (res: Response): Promise<any> => await res.json()
const org = (tenant: string): Record<string, string> => ({ 'x-scope-orgid': tenant })
const iso = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString()
const nsAgo = (msAgo: number): string => `${(Date.now() - msAgo) * 1_000_000}`

async function postNdjson (tenant: string | null, entries: Array<{ service: string, message: string, ago?: number }>): Promise<Response> {
  const body = entries.map((e) => JSON.stringify({ service: e.service, timestamp: iso(e.ago ?? 1000), message: e.message })).join('\n')
  return await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...(tenant === null ? {} : org(tenant)) }, body })
}

async function get (path: string, tenant: string | null): Promise<{ status: number, text: string, body: any }> {
  const res = await fetch(`${url}${path}`, { headers: tenant === null ? {} : org(tenant) })
  const text = await res.text()
  let body: unknown = null
  try { body = JSON.parse(text) } catch {}
  return { status: res.status, text, body }
}

const messagesOf = async (tenant: string, params: string): Promise<string[]> => {
  const { status, body } = await get(`/logs?${params}&limit=1000`, tenant)
  expect(status).toBe(200)
  return (body.logs as Array<{ message: string }>).map((l) => l.message)
}

const lokiValues = (body: any): string[] => (body.data.result as Array<{ values: string[][] }>).flatMap((r) => r.values.map((v) => v[1]!)).sort()

describe('X-Scope-OrgID', () => {
  it('is needed on every route: 401 "no org id" in each protocol\'s own shape', async () => {
    const native = await postNdjson(null, [{ service: 'x', message: 'm' }])
    expect(native.status).toBe(401)
    expect(await json(native)).toEqual({ error: 'no org id', code: 'LOGAGG_ERR_NO_ORG_ID' })
    const logs = await get('/logs', null)
    expect([logs.status, logs.body.code]).toEqual([401, 'LOGAGG_ERR_NO_ORG_ID'])
    expect((await get('/services', null)).status).toBe(401)
    // Loki answers its errors as plain text.
    const push = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"streams":[]}' })
    expect(push.status).toBe(401)
    expect((await push.text()).trim()).toBe('no org id')
    const query = await get(`/loki/api/v1/query_range?query=${encodeURIComponent('{service="x"}')}`, null)
    expect(query.status).toBe(401)
    expect(query.text).toContain('no org id')
    for (const path of ['/loki/api/v1/labels', '/loki/api/v1/series', '/logs/volume?query=%7Bservice%3D%22x%22%7D', '/logs/tail']) {
      expect((await get(path, null)).status, path).toBe(401)
    }
    const otlp = await fetch(`${url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceLogs":[]}' })
    expect(otlp.status).toBe(401)
    expect((await json(otlp)).message).toContain('no org id')
    const bulk = await fetch(`${url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"create":{}}\n{"message":"m"}\n' })
    expect(bulk.status).toBe(401)
    expect((await json(bulk)).error.reason).toContain('no org id')
  })

  it('refuses a tenant id outside Loki\'s rules, and several tenants where one is needed', async () => {
    for (const bad of ['a/b', 'with space', '.', '..', 'x'.repeat(151)]) {
      const res = await postNdjson(bad, [{ service: 'x', message: 'm' }])
      expect(res.status, bad).toBe(400)
      expect((await json(res)).code).toBe('LOGAGG_ERR_BAD_TENANT')
    }
    expect((await postNdjson('x'.repeat(150), [{ service: 'x', message: 'm' }])).status).toBe(201)
    expect((await postNdjson("ok!-_.*'()", [{ service: 'x', message: 'm' }])).status).toBe(201)
    const two = await postNdjson('a|b', [{ service: 'x', message: 'm' }])
    expect(two.status).toBe(400)
    expect((await json(two)).error).toContain('exactly one tenant')
    expect((await get('/logs', 'a|b')).status).toBe(400)
  })
})

describe('two tenants with the same service names', () => {
  beforeAll(async () => {
    for (const t of ['iso-a', 'iso-b']) {
      expect((await postNdjson(t, [{ service: 'api', message: `${t} native 1`, ago: 3000 }, { service: `only-${t}`, message: `${t} native 2`, ago: 2500 }])).status).toBe(201)
      const loki = await fetch(`${url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...org(t) },
        body: JSON.stringify({ streams: [{ stream: { service: 'api', env: t }, values: [[nsAgo(2000), `${t} loki level=info`]] }] })
      })
      expect(loki.status).toBe(204)
      const otlp = await fetch(`${url}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...org(t) },
        body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: nsAgo(1500), body: { stringValue: `${t} otlp` } }] }] }] })
      })
      expect(otlp.status).toBe(200)
      const bulk = await fetch(`${url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...org(t) }, body: `{"create":{}}\n${JSON.stringify({ service: 'api', '@timestamp': iso(1200), message: `${t} bulk` })}\n` })
      expect(bulk.status).toBe(200)
      expect((await json(bulk)).errors).toBe(false)
    }
  })

  it('GET /logs, by service and over every service', async () => {
    for (const t of ['iso-a', 'iso-b']) {
      const expected = [`${t} bulk`, `${t} loki level=info`, `${t} native 1`, `${t} otlp`]
      expect((await messagesOf(t, 'service=api')).sort()).toEqual(expected)
      expect((await messagesOf(t, '')).sort()).toEqual([...expected, `${t} native 2`].sort())
    }
    expect(await messagesOf('iso-none', '')).toEqual([])
  })

  it('GET /services lists a tenant\'s services alone, by their own names, and pages within them', async () => {
    const { body } = await get('/services', 'iso-a')
    expect(body.services.map((s: { service: string }) => s.service)).toEqual(['api', 'only-iso-a'])
    expect(body.services[0].count).toBe(4)
    const first = await get('/services?limit=1', 'iso-b')
    expect(first.body.services.map((s: { service: string }) => s.service)).toEqual(['api'])
    const second = await get(`/services?limit=1&cursor=${encodeURIComponent(first.body.next)}`, 'iso-b')
    expect(second.body.services.map((s: { service: string }) => s.service)).toEqual(['only-iso-b'])
    expect(second.body.next).toBeNull()
  })

  it('Loki query_range (log and metric), labels, label values, series, index/stats, detected_fields, volume', async () => {
    const q = (text: string): string => `/loki/api/v1/query_range?query=${encodeURIComponent(text)}&start=${Date.now() - 60_000}000000&limit=1000`
    for (const t of ['iso-a', 'iso-b']) {
      const other = t === 'iso-a' ? 'iso-b' : 'iso-a'
      const logs = await get(q('{service="api"}'), t)
      expect(lokiValues(logs.body)).toEqual([`${t} bulk`, `${t} loki level=info`, `${t} native 1`, `${t} otlp`])
      expect(logs.text).not.toContain('__tenant_id__')
      const count = await get(q('sum(count_over_time({service=~".+"}[1m]))'), t)
      const points = count.body.data.result[0].values as Array<[number, string]>
      expect(Math.max(...points.map((p) => Number(p[1])))).toBe(5)
      const values = await get('/loki/api/v1/label/service/values', t)
      expect(values.body.data).toEqual(['api', `only-${t}`])
      const env = await get('/loki/api/v1/label/env/values', t)
      expect(env.body.data).toEqual([t])
      const labels = await get('/loki/api/v1/labels', t)
      expect(labels.body.data).toEqual(['env', 'service'])
      const series = await get(`/loki/api/v1/series?match[]=${encodeURIComponent('{service="api"}')}`, t)
      expect(JSON.stringify(series.body.data)).not.toContain(other)
      expect(series.body.data).toContainEqual({ service: 'api', env: t })
      const stats = await get(`/loki/api/v1/index/stats?query=${encodeURIComponent('{service=~".+"}')}`, t)
      expect(stats.body.entries).toBe(5)
      const fields = await get(`/loki/api/v1/detected_fields?query=${encodeURIComponent('{service="api"} | logfmt')}`, t)
      expect(fields.status).toBe(200)
      expect(fields.body.fields.find((f: { label: string }) => f.label === 'level')?.cardinality).toBe(1)
      const volume = await get(`/logs/volume?query=${encodeURIComponent('{service="api"}')}&start=${Date.now() - 60_000}`, t)
      const total = Object.values(volume.body.levels as Record<string, number[]>).flat().reduce((a, b) => a + b, 0)
      expect(total).toBe(4)
    }
  })

  it('a query naming two tenants (a|b) merges them and labels each stream with __tenant_id__', async () => {
    const q = `/loki/api/v1/query_range?query=${encodeURIComponent('{service="api", env=~".+"}')}&start=${Date.now() - 60_000}000000`
    const { status, body } = await get(q, 'iso-b|iso-a')
    expect(status).toBe(200)
    const streams = (body.data.result as Array<{ stream: Record<string, string>, values: string[][] }>).map((r) => ({ stream: r.stream, lines: r.values.map((v) => v[1]) }))
    expect(streams.sort((x, y) => x.stream.env!.localeCompare(y.stream.env!))).toEqual([
      { stream: { service: 'api', env: 'iso-a', __tenant_id__: 'iso-a' }, lines: ['iso-a loki level=info'] },
      { stream: { service: 'api', env: 'iso-b', __tenant_id__: 'iso-b' }, lines: ['iso-b loki level=info'] }
    ])
    // A selector on __tenant_id__ narrows the tenants, as in Loki.
    const one = await get(`/loki/api/v1/query_range?query=${encodeURIComponent('{service="api", __tenant_id__="iso-b"}')}&start=${Date.now() - 60_000}000000`, 'iso-a|iso-b')
    expect(lokiValues(one.body)).toEqual(['iso-b bulk', 'iso-b loki level=info', 'iso-b native 1', 'iso-b otlp'])
    const metric = await get(`/loki/api/v1/query?query=${encodeURIComponent('sum by (__tenant_id__) (count_over_time({service="api"}[5m]))')}`, 'iso-a|iso-b')
    expect((metric.body.data.result as Array<{ metric: Record<string, string>, value: [number, string] }>).map((r) => [r.metric.__tenant_id__, r.value[1]]).sort()).toEqual([['iso-a', '4'], ['iso-b', '4']])
    const values = await get('/loki/api/v1/label/__tenant_id__/values', 'iso-a|iso-b')
    expect(values.body.data).toEqual(['iso-a', 'iso-b'])
  })

  it('GET /logs/tail and the Loki WebSocket tail deliver the tail\'s tenant\'s entries alone, replay included', async () => {
    const controller = new AbortController()
    const res = await fetch(`${url}/logs/tail?service=tailed&format=ndjson&start=${encodeURIComponent(iso(60_000))}`, { headers: org('tail-a'), signal: controller.signal })
    expect(res.status).toBe(200)
    let text = ''
    const reading = (async () => {
      try { for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8') } catch {}
    })()
    const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{service="tailed"}')}&start=${Date.now() - 60_000}000000`, { headers: org('tail-b') })
    const wsLines: string[] = []
    ws.on('message', (data) => {
      for (const s of JSON.parse(String(data)).streams) for (const v of s.values) wsLines.push(v[1])
    })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    for (let i = 0; i < 3; i++) {
      expect((await postNdjson('tail-a', [{ service: 'tailed', message: `a live ${i}` }])).status).toBe(201)
      expect((await postNdjson('tail-b', [{ service: 'tailed', message: `b live ${i}` }])).status).toBe(201)
    }
    const done = await eventually(() => text.split('\n').filter((l) => l.trim() !== '').length >= 3 && wsLines.length >= 3, 10_000)
    controller.abort()
    ws.close()
    await reading
    expect(done).toBe(true)
    const nativeLines = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).message)
    expect(nativeLines).toEqual(['a live 0', 'a live 1', 'a live 2'])
    expect(wsLines).toEqual(['b live 0', 'b live 1', 'b live 2'])
    // A tail for two tenants is refused.
    const two = await get('/logs/tail?service=tailed', 'tail-a|tail-b')
    expect(two.status).toBe(400)
  })

  it('a syslog listener stores under its own tenant (SYSLOG_UDP_TENANT)', async () => {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => socket.send('<14>1 2026-01-01T00:00:00Z host sysapp - - - from syslog', server.syslog!.udpPort!, '127.0.0.1', (err) => err ? reject(err) : resolve()))
    socket.close()
    // Its own timestamp is old: read the whole window.
    expect(await eventually(async () => (await get('/services', 'syslog-t')).body.services.some((s: { service: string }) => s.service === 'sysapp'), 5000)).toBe(true)
    expect((await get('/services', 'fake')).body.services.some((s: { service: string }) => s.service === 'sysapp')).toBe(false)
  })
})

describe('isolation as a property', () => {
  it('random writes to random tenants: every read of a tenant returns exactly its entries', async () => {
    const tenants = ['p-a', 'p-b', 'p-c']
    const services = ['s1', 's2', 's3']
    let round = 0
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ tenant: fc.constantFrom(...tenants), service: fc.constantFrom(...services), text: fc.string({ minLength: 1, maxLength: 12 }) }), { minLength: 1, maxLength: 25 }),
      async (writes) => {
        // A tag of this run keeps earlier runs' entries out of the comparison.
        const tag = `r${round++}`
        const sent = new Map<string, string[]>(tenants.map((t) => [t, []]))
        for (const t of tenants) {
          const mine = writes.filter((w) => w.tenant === t).map((w, i) => ({ service: w.service, message: `${tag} ${i} ${w.text}` }))
          if (mine.length === 0) continue
          expect((await postNdjson(t, mine)).status).toBe(201)
          sent.get(t)!.push(...mine.map((m) => `${m.service}|${m.message}`))
        }
        for (const t of tenants) {
          const { body } = await get(`/logs?contains=${encodeURIComponent(`${tag} `)}&limit=1000`, t)
          const got = (body.logs as Array<{ service: string, message: string }>).filter((l) => l.message.startsWith(`${tag} `)).map((l) => `${l.service}|${l.message}`)
          expect(got.sort()).toEqual(sent.get(t)!.sort())
          const loki = await get(`/loki/api/v1/query_range?query=${encodeURIComponent(`{service=~".+"} |= "${tag} "`)}&start=${Date.now() - 60_000}000000&limit=1000`, t)
          expect(lokiValues(loki.body).filter((m) => m.startsWith(`${tag} `))).toEqual(sent.get(t)!.map((s) => s.slice(s.indexOf('|') + 1)).sort())
        }
      }
    ), { numRuns: 15 })
  })
})

describe('MULTI_TENANT off', () => {
  it('ignores X-Scope-OrgID: every request is tenant fake, as before', async () => {
    const single = await startTestServer({ shards: 2 })
    try {
      const body = JSON.stringify({ service: 'one', timestamp: iso(500), message: 'shared' })
      expect((await fetch(`${single.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', ...org('a') }, body })).status).toBe(201)
      const res = await fetch(`${single.url}/logs?service=one`, { headers: org('b') })
      expect((await json(res)).logs.map((l: { message: string }) => l.message)).toEqual(['shared'])
      expect((await json(await fetch(`${single.url}/logs?service=one`))).logs).toHaveLength(1)
    } finally {
      await single.close()
    }
  })
})

describe('with DATA_DIR', () => {
  it('tenants stay apart across a restart, and data written without MULTI_TENANT is tenant fake', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logagg-tenants-'))
    try {
      const before = await startTestServer({ shards: 2, dataDir: dir })
      const body = JSON.stringify({ service: 'api', timestamp: iso(800), message: 'from before tenants' })
      expect((await fetch(`${before.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(201)
      await before.close()
      const multi = await startTestServer({ shards: 2, dataDir: dir, multiTenant: true })
      const post = async (s: RunningServer, t: string, message: string): Promise<void> => {
        const res = await fetch(`${s.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', ...org(t) }, body: JSON.stringify({ service: 'api', timestamp: iso(500), message }) })
        expect(res.status).toBe(201)
      }
      await post(multi, 'dur-a', 'a kept')
      await post(multi, 'dur-b', 'b kept')
      await multi.close()
      const again = await startTestServer({ shards: 2, dataDir: dir, multiTenant: true })
      try {
        const read = async (t: string): Promise<string[]> => ((await json(await fetch(`${again.url}/logs?service=api`, { headers: org(t) }))).logs as Array<{ message: string }>).map((l) => l.message)
        expect(await read('fake')).toEqual(['from before tenants'])
        expect(await read('dur-a')).toEqual(['a kept'])
        expect(await read('dur-b')).toEqual(['b kept'])
      } finally {
        await again.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('/metrics per tenant', () => {
  it('counts each tenant under its own label up to METRICS_MAX_TENANTS, the rest summed under other', async () => {
    const capped = await startTestServer({ shards: 2, multiTenant: true, metricsMaxTenants: 2 })
    try {
      const send = async (tenant: string, n: number): Promise<void> => {
        const body = Array.from({ length: n }, (_, i) => JSON.stringify({ service: 'm', timestamp: iso(100), message: `${tenant} ${i}` })).join('\n')
        expect((await fetch(`${capped.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...org(tenant) }, body })).status).toBe(201)
      }
      await send('m-a', 1)
      await send('m-b', 2)
      await send('m-c', 3)
      await send('m-d', 4)
      await send('m-a', 5)
      const bad = await fetch(`${capped.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...org('m-b') }, body: '{"service":"m"}\n' })
      expect(bad.status).toBe(400)
      const text = await (await fetch(`${capped.url}/metrics`)).text()
      const value = (name: string, labels: string): number | undefined => {
        const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`))
        return line === undefined ? undefined : Number(line.split(' ').pop())
      }
      expect(value('logagg_tenant_ingested_entries_total', 'tenant="m-a"')).toBe(6)
      expect(value('logagg_tenant_ingested_entries_total', 'tenant="m-b"')).toBe(2)
      expect(value('logagg_tenant_ingested_entries_total', 'tenant="other"')).toBe(7)
      expect(value('logagg_tenant_ingested_entries_total', 'tenant="m-c"')).toBeUndefined()
      expect(value('logagg_tenant_rejected_entries_total', 'tenant="m-b",reason="invalid"')).toBe(1)
    } finally {
      await capped.close()
    }
  })
})
