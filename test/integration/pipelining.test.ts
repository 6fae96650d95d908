import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, getJson, isoAt, kTestInternals, startTestServer, type RunningServer } from './helpers.js'

// Issue 7, item 2: a client that pipelines requests and never reads the
// answers made the server run every request and hold every answer.

let server: RunningServer

beforeAll(async () => {
  server = await startTestServer({ shards: 2, writeTimeout: 1000 })
  const ts = isoAt(-1000)
  const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ service: 'pipe', timestamp: ts, message: `${'x'.repeat(100)} ${i}` }))
  const res = await fetch(`${server.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
  expect(res.status).toBe(201)
})
afterAll(async () => { await server.close() })

const connections = (): Promise<number> => new Promise((resolve, reject) => {
  server.http.getConnections((err, n) => { if (err !== null) reject(err); else resolve(n) })
})

describe('pipelined requests from a client that does not read', () => {
  it('runs one request at a time per connection and cuts the connection after WRITE_TIMEOUT', async () => {
    const queries: number[] = []
    const original = server.router.query.bind(server.router)
    server.router.query = async (q, route) => {
      queries.push(q.limit)
      return original(q, route)
    }
    const startedBefore = server[kTestInternals].requestsStarted
    try {
      const socket = connect(server.port, '127.0.0.1')
      socket.pause() // never read
      socket.on('error', () => {})
      const request = 'GET /logs?service=pipe&limit=10000 HTTP/1.1\r\nHost: localhost\r\n\r\n'
      socket.write(request.repeat(200))
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))

      // Each answer is about 1.3 MB: socket buffers hold a few, then the server waits.
      expect(await eventually(async () => (await connections()) === 0, 10_000)).toBe(true)
      const started = server[kTestInternals].requestsStarted - startedBefore
      expect(queries.length).toBeLessThan(30)
      expect(started).toBeLessThan(30)
      expect(started).toBeGreaterThan(0)
      socket.resume()
      await closed
    } finally {
      server.router.query = original
    }
    // The server is fine for everyone else.
    expect((await getJson(server.url, '/logs?service=pipe&limit=1')).status).toBe(200)
  })

  it('still answers pipelined requests in order when the client reads', async () => {
    const socket = connect(server.port, '127.0.0.1')
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { text += d })
    const request = (n: number): string => `GET /logs?service=pipe&limit=${n} HTTP/1.1\r\nHost: localhost\r\n\r\n`
    socket.write(request(1) + request(2) + request(3) + 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    await new Promise((resolve) => socket.once('close', resolve))
    expect(text.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(4)
    expect(text.indexOf('"status":"ok"')).toBeGreaterThan(text.lastIndexOf('"logs"'))
  })
})
