import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NODE24, eventually, spawnServer, type Spawned } from './helpers.js'

// Tenants with FRONTS=2 (Node 24, reusePort): each request on a connection of
// its own, so the kernel spreads them over both front threads. Every front
// enforces TOKENS_FILE and reloads it on SIGHUP; the delete API answers the
// same list whichever front takes the call (the second forwards to the first).

const dir = mkdtempSync(join(tmpdir(), 'logagg-tenant-fronts-'))
const tokens = join(dir, 'tokens.yaml')
const A = 'fronts-team-a-0123456789'
const ADMIN = 'fronts-admin-all-0123456789'
const NEW = 'fronts-added-later-0123456789'
const FILE = `tokens:
  - token: "${A}"
    tenants: [team-a]
    scopes: [ingest, query]
  - token: "${ADMIN}"
    tenants: ["*"]
    scopes: [admin, query, metrics]
`

let server: Spawned

beforeAll(async () => {
  expect(existsSync(NODE24), `${NODE24} is missing: npm run setup installs it`).toBe(true)
  writeFileSync(tokens, FILE)
  server = await spawnServer({ SHARDS: '2', FRONTS: '2', MULTI_TENANT: 'on', TOKENS_FILE: tokens, DELETE_CANCEL_PERIOD: '1h' }, [], undefined, NODE24)
})
afterAll(() => {
  server?.child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** One request on a new connection (agent: false), so successive calls may reach either front. */
async function call (method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, text: string }> {
  const url = new URL(path, server.url)
  return await new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const auth = (token: string, tenant: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'x-scope-orgid': tenant })

describe('tenants with FRONTS=2', () => {
  it('every front refuses a token for another tenant, and takes a token added to TOKENS_FILE after SIGHUP', async () => {
    for (let i = 0; i < 8; i++) {
      expect((await call('GET', '/logs?service=x', auth(A, 'team-a'))).status).toBe(200)
      expect((await call('GET', '/logs?service=x', auth(A, 'team-b'))).status).toBe(403)
    }
    writeFileSync(tokens, `${FILE}  - token: "${NEW}"\n    tenants: [team-c]\n    scopes: [query]\n`)
    server.child.kill('SIGHUP')
    // Both fronts reload (by SIGHUP, or by watching the file): 8 connections in a row all take it.
    expect(await eventually(async () => {
      for (let i = 0; i < 8; i++) if ((await call('GET', '/services', auth(NEW, 'team-c'))).status !== 200) return false
      return true
    }, 10_000)).toBe(true)
  })

  it('the delete API answers one list whichever front takes each call', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await call('POST', `/loki/api/v1/delete?query=${encodeURIComponent(`{service="s${i}"}`)}&start=0`, auth(ADMIN, 'team-d'))
      expect(res.status, res.text).toBe(204)
    }
    for (let i = 0; i < 6; i++) {
      const res = await call('GET', '/loki/api/v1/delete', auth(ADMIN, 'team-d'))
      expect(res.status).toBe(200)
      const list = JSON.parse(res.text) as Array<{ query: string, status: string }>
      expect(list.map((r) => r.query).sort()).toEqual(Array.from({ length: 6 }, (_, k) => `{service="s${k}"}`))
      expect(list.every((r) => r.status === 'received')).toBe(true)
    }
    // A token without the admin scope may not use it, on any front.
    for (let i = 0; i < 4; i++) expect((await call('GET', '/loki/api/v1/delete', auth(A, 'team-a'))).status).toBe(403)
    // Both fronts took connections, so both answered some of the calls above.
    const metrics = await call('GET', '/metrics', { authorization: `Bearer ${ADMIN}` })
    for (const front of ['0', '1']) {
      const line = metrics.text.split('\n').find((l) => l.startsWith(`logagg_front_connections_total{front="${front}"}`))
      expect(Number(line?.split(' ').pop()), `front ${front}`).toBeGreaterThan(0)
    }
  })
})
