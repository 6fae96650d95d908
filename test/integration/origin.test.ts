import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { isoAt, startFixtureServer, startTestServer, type RunningServer } from './helpers.js'

// Issue 7, item 8: cross-site writes and DNS rebinding with the default, token-less configuration.

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** A raw request, so that Host and Origin can be anything. */
function call (method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server!.url}${path}`, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const entry = (): string => JSON.stringify({ service: 'web', timestamp: isoAt(0), message: 'forged' })

describe('Origin and Host', () => {
  it('refuses a cross-site text/plain POST with 403 and stores nothing; no Origin still works', async () => {
    server = await startTestServer({ shards: 2 })
    const forged = await call('POST', '/logs', { 'content-type': 'text/plain', origin: 'https://evil.example' }, entry())
    expect(forged.status).toBe(403)
    expect(forged.body.code).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    expect(forged.body.error).toMatch(/CORS_ORIGIN/)
    expect((await call('GET', '/logs?service=web', { origin: 'https://evil.example' })).status).toBe(403)
    expect((await call('GET', '/logs?service=web', {})).body.logs).toEqual([])
    expect((await call('POST', '/logs', { 'content-type': 'text/plain' }, entry())).status).toBe(201)
  })

  it('lets the CORS_ORIGIN origin through and refuses others', async () => {
    server = await startTestServer({ shards: 1, corsOrigin: 'https://grafana.example' })
    expect((await call('POST', '/logs', { 'content-type': 'application/json', origin: 'https://grafana.example' }, entry())).status).toBe(201)
    expect((await call('POST', '/logs', { 'content-type': 'application/json', origin: 'https://evil.example' }, entry())).status).toBe(403)
  })

  it('on loopback refuses a rebinding Host name unless ALLOWED_HOSTS names it', async () => {
    server = await startTestServer({ shards: 1 })
    const rebound = await call('GET', '/logs', { host: `rebind.evil.example:${server.port}` })
    expect(rebound.status).toBe(403)
    expect(rebound.body.code).toBe('LOGAGG_ERR_FORBIDDEN_HOST')
    expect(rebound.body.error).toMatch(/ALLOWED_HOSTS/)
    expect((await call('GET', '/services', { host: 'rebind.evil.example' })).status).toBe(403)
    expect((await call('GET', '/logs', { host: `localhost:${server.port}` })).status).toBe(200)
    await server.close()
    server = await startTestServer({ shards: 1, allowedHosts: 'logs.internal' })
    expect((await call('GET', '/logs', { host: 'logs.internal' })).status).toBe(200)
    expect((await call('GET', '/logs', { host: 'rebind.evil.example' })).status).toBe(403)
  })

  it('warns at start when only INGEST_TOKEN is set, since reads stay open', async () => {
    const lines: string[] = []
    server = await startFixtureServer({ ingestToken: 'ingest-only-token-0123456789' }, lines)
    expect(lines.some((l) => /only INGEST_TOKEN is set/.test(l) && JSON.parse(l).level === 40)).toBe(true)
  })
})
