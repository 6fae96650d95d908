import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { eventually, runMain, startTestServer, type RunningServer } from './helpers.js'

// TOKENS_FILE against the real server with MULTI_TENANT on: a token is bound
// to tenants and scopes, on every route; the settings' tokens keep working;
// the file is reloaded when it changes (and on SIGHUP: server.reload), and a
// bad one is refused, logged, and the one in force stays.

const A = 'team-a-token-0123456789'
const B = 'reader-of-all-0123456789'
const M = 'metrics-scraper-0123456789'
const LEGACY = 'legacy-auth-token-0123456789'
const NEW = 'added-later-token-0123456789'

const dir = mkdtempSync(join(tmpdir(), 'logagg-tokens-'))
const file = join(dir, 'tokens.yaml')
const baseFile = `tokens:
  - token: "${A}"
    tenants: [team-a]
    scopes: [ingest, query]
  - token: "${B}"
    tenants: ["*"]
    scopes: [query]
  - token: "${M}"
    tenants: ["*"]
    scopes: [metrics]
`

let server: RunningServer
let url: string
const logLines: string[] = []

beforeAll(async () => {
  writeFileSync(file, baseFile)
  server = await startTestServer({ shards: 2, multiTenant: true, tokensFile: file, authToken: LEGACY, logLevel: 'info' }, logLines)
  url = server.url
})
afterAll(async () => {
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

const headers = (token: string | null, tenant: string | null): Record<string, string> => ({
  ...(token === null ? {} : { authorization: `Bearer ${token}` }),
  ...(tenant === null ? {} : { 'x-scope-orgid': tenant })
})
const now = (): string => new Date().toISOString()
const nowNs = (): string => `${Date.now()}000000`

/** Every route a tenant's token reaches, as a request. */
const ROUTES: Array<{ name: string, scope: 'ingest' | 'query', method: string, path: string, type?: string, body?: () => string }> = [
  { name: 'POST /logs', scope: 'ingest', method: 'POST', path: '/logs', type: 'application/json', body: () => JSON.stringify({ service: 'tok', timestamp: now(), message: 'm' }) },
  { name: 'POST /insert/jsonline', scope: 'ingest', method: 'POST', path: '/insert/jsonline?_stream_fields=service', type: 'application/x-ndjson', body: () => `${JSON.stringify({ service: 'tok', _time: now(), _msg: 'm' })}\n` },
  { name: 'Loki push', scope: 'ingest', method: 'POST', path: '/loki/api/v1/push', type: 'application/json', body: () => JSON.stringify({ streams: [{ stream: { service: 'tok' }, values: [[nowNs(), 'm']] }] }) },
  { name: 'OTLP', scope: 'ingest', method: 'POST', path: '/v1/logs', type: 'application/json', body: () => JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tok' } }] }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'm' } }] }] }] }) },
  { name: '_bulk', scope: 'ingest', method: 'POST', path: '/_bulk', type: 'application/x-ndjson', body: () => `{"create":{}}\n${JSON.stringify({ service: 'tok', '@timestamp': now(), message: 'm' })}\n` },
  { name: 'GET /logs', scope: 'query', method: 'GET', path: '/logs?service=tok' },
  { name: 'GET /services', scope: 'query', method: 'GET', path: '/services' },
  { name: 'GET /logs/volume', scope: 'query', method: 'GET', path: '/logs/volume?query=%7Bservice%3D%22tok%22%7D' },
  { name: 'query_range', scope: 'query', method: 'GET', path: '/loki/api/v1/query_range?query=%7Bservice%3D%22tok%22%7D' },
  { name: 'query', scope: 'query', method: 'GET', path: '/loki/api/v1/query?query=count_over_time(%7Bservice%3D%22tok%22%7D%5B1m%5D)' },
  { name: 'labels', scope: 'query', method: 'GET', path: '/loki/api/v1/labels' },
  { name: 'label values', scope: 'query', method: 'GET', path: '/loki/api/v1/label/service/values' },
  { name: 'series', scope: 'query', method: 'GET', path: '/loki/api/v1/series?match[]=%7Bservice%3D%22tok%22%7D' },
  { name: 'index/stats', scope: 'query', method: 'GET', path: '/loki/api/v1/index/stats?query=%7Bservice%3D%22tok%22%7D' },
  { name: 'detected_fields', scope: 'query', method: 'GET', path: '/loki/api/v1/detected_fields?query=%7Bservice%3D%22tok%22%7D' }
]

async function call (route: typeof ROUTES[number], token: string | null, tenant: string | null): Promise<{ status: number, text: string }> {
  const h = headers(token, tenant)
  if (route.type !== undefined) h['content-type'] = route.type
  const res = await fetch(`${url}${route.path}`, { method: route.method, headers: h, ...(route.body === undefined ? {} : { body: route.body() }) })
  return { status: res.status, text: await res.text() }
}

/** The status the Loki tail WebSocket answers the handshake with. */
async function tailStatus (token: string | null, tenant: string | null): Promise<number> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{service="tok"}')}`, { headers: headers(token, tenant) })
  return await new Promise<number>((resolve) => {
    ws.once('open', () => { ws.close(); resolve(101) })
    ws.once('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0) })
    ws.once('error', () => resolve(0))
  })
}

async function sseStatus (token: string | null, tenant: string | null): Promise<number> {
  const controller = new AbortController()
  const res = await fetch(`${url}/logs/tail?service=tok`, { headers: headers(token, tenant), signal: controller.signal })
  controller.abort()
  return res.status
}

describe('a token bound to a tenant', () => {
  it('reads and writes its own tenant on every route, and gets 403 for another whatever the header', async () => {
    for (const route of ROUTES) {
      const own = await call(route, A, 'team-a')
      expect(own.status, `${route.name} own: ${own.text}`).toBeLessThan(300)
      const other = await call(route, A, 'team-b')
      expect(other.status, `${route.name} other`).toBe(403)
      expect(other.text, route.name).toContain('team-b')
      // Naming its own tenant beside another is not a way in.
      if (route.scope === 'query') expect((await call(route, A, 'team-a|team-b')).status, `${route.name} both`).toBe(403)
      expect((await call(route, null, 'team-a')).status, `${route.name} no token`).toBe(401)
      expect((await call(route, 'not-a-token-of-the-file-000', 'team-a')).status, `${route.name} unknown token`).toBe(401)
    }
    expect(await sseStatus(A, 'team-a')).toBe(200)
    expect(await sseStatus(A, 'team-b')).toBe(403)
    expect(await tailStatus(A, 'team-a')).toBe(101)
    expect(await tailStatus(A, 'team-b')).toBe(403)
    expect(await tailStatus(null, 'team-a')).toBe(401)
  })

  it('names its tenant when the request sends no X-Scope-OrgID', async () => {
    const post = await fetch(`${url}/logs`, { method: 'POST', headers: { ...headers(A, null), 'content-type': 'application/json' }, body: JSON.stringify({ service: 'implied', timestamp: now(), message: 'no header' }) })
    expect(post.status).toBe(201)
    const read = await fetch(`${url}/logs?service=implied`, { headers: headers(B, 'team-a') })
    expect(((await read.json()) as { logs: Array<{ message: string }> }).logs.map((l) => l.message)).toEqual(['no header'])
    // A token for every tenant must name one.
    expect((await fetch(`${url}/logs?service=implied`, { headers: headers(B, null) })).status).toBe(401)
  })

  it('has only its scopes: a query token cannot ingest, /metrics needs the metrics scope', async () => {
    for (const route of ROUTES) {
      const r = await call(route, B, 'team-b')
      expect(r.status, route.name).toBe(route.scope === 'query' ? 200 : 403)
      if (route.scope === 'ingest') expect(r.text, route.name).toContain('ingest scope')
    }
    expect((await fetch(`${url}/metrics`, { headers: headers(M, null) })).status).toBe(200)
    expect((await fetch(`${url}/metrics`, { headers: headers(A, null) })).status).toBe(403)
    expect((await fetch(`${url}/metrics`)).status).toBe(401)
  })

  it('leaves AUTH_TOKEN working, for every tenant', async () => {
    for (const route of ROUTES) {
      expect((await call(route, LEGACY, 'team-z')).status, route.name).toBeLessThan(300)
    }
  })
})

describe('reloading TOKENS_FILE', () => {
  it('takes a changed file while traffic runs, refuses a bad one (logged, the old one stays), and reloads on SIGHUP', async () => {
    const state = { running: true }
    const failures: number[] = []
    let sent = 0
    // Traffic with a token that every version of the file keeps.
    const traffic = (async () => {
      for (let i = 0; state.running && i < 5000; i++) {
        const res = await fetch(`${url}/logs`, { method: 'POST', headers: { ...headers(A, 'team-a'), 'content-type': 'application/json' }, body: JSON.stringify({ service: 'during-reload', timestamp: now(), message: `n${i}` }) })
        sent++
        if (res.status !== 201) failures.push(res.status)
      }
    })()
    try {
      const added = `${baseFile}  - token: "${NEW}"\n    tenants: [team-c]\n    scopes: [ingest, query]\n`
      writeFileSync(file, added)
      expect(await eventually(async () => (await fetch(`${url}/services`, { headers: headers(NEW, 'team-c') })).status === 200, 10_000)).toBe(true)
      // A bad file: refused, logged, and NEW (of the file in force) still works.
      writeFileSync(file, `${added}  - token: short\n    tenants: [x]\n    scopes: [query]\n`)
      expect(await eventually(() => logLines.some((l) => l.includes('TOKENS_FILE: the new file is refused') && l.includes('tokens[4].token')), 10_000)).toBe(true)
      expect((await fetch(`${url}/services`, { headers: headers(NEW, 'team-c') })).status).toBe(200)
      // An unknown scope is refused too, and SIGHUP reads it again (server.reload is what SIGHUP calls).
      writeFileSync(file, `${baseFile}  - token: "${NEW}"\n    tenants: [team-c]\n    scopes: [everything]\n`)
      server.reload()
      expect(logLines.some((l) => l.includes('"why":"SIGHUP"') && l.includes('is not one of ingest, query, metrics, admin'))).toBe(true)
      expect((await fetch(`${url}/services`, { headers: headers(NEW, 'team-c') })).status).toBe(200)
      // Back to the first file: NEW is gone.
      writeFileSync(file, baseFile)
      server.reload()
      expect((await fetch(`${url}/services`, { headers: headers(NEW, 'team-c') })).status).toBe(401)
    } finally {
      state.running = false
      await traffic
    }
    expect(sent).toBeGreaterThan(0)
    expect(failures).toEqual([])
  })

  it('a bad file at start stops the server with one line naming TOKENS_FILE', async () => {
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'tokens:\n  - token: "long-enough-token-0123"\n    tenants: ["a/b"]\n    scopes: [query]\n')
    const run = await runMain({ PORT: '0', SHARDS: '1', TOKENS_FILE: bad, MULTI_TENANT: 'on' })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`TOKENS_FILE ${bad}: tokens[0].tenants: tenant ID 'a/b' contains unsupported character '/'`)
    const missing = await runMain({ PORT: '0', SHARDS: '1', TOKENS_FILE: join(dir, 'none.yaml') })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('cannot be read: ENOENT')
  })
})
