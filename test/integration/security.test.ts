import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isoAt, startTestServer, type RunningServer } from './helpers.js'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const AUTH = 'all-access-token-0123456789'
const INGEST = 'ingest-only-token-0123456789'
const QUERY = 'query-only-token-0123456789'

async function call (method: string, path: string, token?: string): Promise<{ status: number, body: any, headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const body = method === 'POST' ? JSON.stringify({ service: 'auth', timestamp: isoAt(0), message: 'm' }) : undefined
  const res = await fetch(`${server!.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

describe('bearer tokens', () => {
  it('guards every endpoint but /healthz with AUTH_TOKEN', async () => {
    server = await startTestServer({ authToken: AUTH })
    for (const [method, path] of [['POST', '/logs'], ['GET', '/logs'], ['GET', '/services']] as const) {
      const none = await call(method, path)
      expect(none.status).toBe(401)
      expect(none.body.error).toMatch(/Authorization: Bearer/)
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect((await call(method, path, 'wrong-token-wrong-token')).status).toBe(401)
      expect((await call(method, path, AUTH)).status).toBe(method === 'POST' ? 201 : 200)
    }
    expect((await call('GET', '/healthz')).status).toBe(200)
  })

  it('lets INGEST_TOKEN only write and QUERY_TOKEN only read', async () => {
    server = await startTestServer({ ingestToken: INGEST, queryToken: QUERY })
    expect((await call('POST', '/logs', INGEST)).status).toBe(201)
    const wrongScope = await call('GET', '/logs', INGEST)
    expect(wrongScope.status).toBe(401)
    expect(wrongScope.body.error).toMatch(/may only ingest/)
    expect((await call('GET', '/logs', QUERY)).status).toBe(200)
    expect((await call('GET', '/services', QUERY)).status).toBe(200)
    expect((await call('POST', '/logs', QUERY)).status).toBe(401)
    expect((await call('POST', '/logs')).status).toBe(401)
  })

  it('leaves reads open when only INGEST_TOKEN is set', async () => {
    server = await startTestServer({ ingestToken: INGEST })
    expect((await call('POST', '/logs')).status).toBe(401)
    expect((await call('GET', '/logs')).status).toBe(200)
  })
})

describe('headers', () => {
  it('sends the same security headers and no x-powered-by on every route', async () => {
    server = await startTestServer()
    const seen: string[] = []
    for (const [method, path] of [['GET', '/healthz'], ['GET', '/logs'], ['POST', '/logs'], ['GET', '/logs?limit=0'], ['GET', '/nowhere']] as const) {
      const { headers } = await call(method, path)
      expect(headers.get('x-powered-by')).toBeNull()
      expect(headers.get('x-content-type-options')).toBe('nosniff')
      expect(headers.get('content-security-policy')).toMatch(/default-src 'self'/)
      expect(headers.get('access-control-allow-origin')).toBeNull()
      expect(headers.get('content-type')).toBe('application/json; charset=utf-8')
      // logagg-error-code is on refusals only (the 400 and the 404 here), server-timing on answered queries only.
      expect(headers.get('server-timing') !== null).toBe(method === 'GET' && path === '/logs')
      seen.push([...headers.keys()].filter((k) => !['date', 'content-length', 'connection', 'keep-alive', 'logagg-error-code', 'server-timing'].includes(k)).sort().join(','))
    }
    // The fast path (GET/POST /logs) and Express (the rest) send the same set.
    expect(new Set(seen).size).toBe(1)
  })

  it('answers CORS only when CORS_ORIGIN is set', async () => {
    server = await startTestServer({ corsOrigin: 'https://grafana.example.com' })
    const res = await fetch(`${server.url}/logs`, { method: 'OPTIONS', headers: { origin: 'https://grafana.example.com', 'access-control-request-method': 'GET' } })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://grafana.example.com')
    const get = await fetch(`${server.url}/healthz`, { headers: { origin: 'https://grafana.example.com' } })
    expect(get.headers.get('access-control-allow-origin')).toBe('https://grafana.example.com')
    // /logs answers the same with CORS on (served by Express rather than the fast path).
    const post = await fetch(`${server.url}/logs`, { method: 'POST', headers: { origin: 'https://grafana.example.com', 'content-type': 'application/json' }, body: JSON.stringify({ service: 'cors', timestamp: isoAt(0), message: 'm' }) })
    expect(post.status).toBe(201)
    expect(post.headers.get('access-control-allow-origin')).toBe('https://grafana.example.com')
    const logs = await fetch(`${server.url}/logs?service=cors`, { headers: { origin: 'https://grafana.example.com' } })
    expect(((await logs.json()) as { logs: Array<{ message: string }> }).logs.map((e) => e.message)).toEqual(['m'])
    expect((await fetch(`${server.url}/logs?limit=0`)).status).toBe(400)
  })
})

describe('broken HTTP', () => {
  it('answers malformed HTTP with a JSON 400', async () => {
    server = await startTestServer()
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(server!.port, '127.0.0.1', () => socket.write('NONSENSE\r\n\r\n'))
      let text = ''
      socket.on('data', (d) => { text += d.toString() })
      socket.on('close', () => resolve(text))
    })
    expect(answer).toMatch(/^HTTP\/1\.1 400/)
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).code).toBe('LOGAGG_ERR_BAD_REQUEST')
  })
})

describe('slow clients', () => {
  /** Opens a raw connection, writes `first`, then one byte of `drip` every 100 ms; resolves with what the server sent and when it closed. */
  function trickle (port: number, first: string, drip: string): Promise<{ answer: string, ms: number }> {
    return new Promise((resolve) => {
      const started = Date.now()
      const socket = connect(port, '127.0.0.1')
      let answer = ''
      let i = 0
      const timer = setInterval(() => { if (i < drip.length && !socket.destroyed) socket.write(drip[i++]!) }, 100)
      socket.on('connect', () => socket.write(first))
      socket.on('data', (d) => { answer += d.toString() })
      socket.on('error', () => {})
      socket.on('close', () => {
        clearInterval(timer)
        resolve({ answer, ms: Date.now() - started })
      })
    })
  }

  it('cuts a client that trickles its headers after HEADERS_TIMEOUT', async () => {
    server = await startTestServer({ headersTimeout: 500, requestTimeout: 1000 })
    const { answer, ms } = await trickle(server.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: ' + 'a'.repeat(100))
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error).toMatch(/HEADERS_TIMEOUT/)
    expect(ms).toBeLessThan(5000)
  })

  it('cuts a client that trickles its body after REQUEST_TIMEOUT', async () => {
    server = await startTestServer({ headersTimeout: 500, requestTimeout: 1000 })
    const { answer, ms } = await trickle(server.port, 'POST /logs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n', '{' + ' '.repeat(200))
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
    expect(ms).toBeLessThan(6000)
  })
})
