import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { isoAt, readAll, startTestServer, type RunningServer } from './helpers.js'
import { program } from '../programs.js'

// Issue 18 item 4: an Upgrade that is not a WebSocket (Java's h2c) is served as plain HTTP/1.1.

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const JAVA_CLIENT = fileURLToPath(new URL('../fixtures/JavaClient.java', import.meta.url))

describe('Upgrade requests that are not WebSockets', () => {
  it('serves Java 17\'s default HttpClient (h2c upgrade on every first request): POST JSON, NDJSON, Loki push, GET', async () => {
    server = await startTestServer({ shards: 2 })
    const { stdout } = await promisify(execFile)(program('java', 'openjdk-17-jdk-headless'), [JAVA_CLIENT, server.url, 'java-svc'], { timeout: 25_000 })
    const lines = stdout.trim().split('\n')
    expect(lines.slice(0, 3)).toEqual(['post-json 201 {"status":"Log entry stored"}', 'post-ndjson 201 {"stored":2}', 'loki-push 204 '])
    expect(lines[3]).toMatch(/^get 200 /)
    const page = JSON.parse(lines[3]!.slice('get 200 '.length)) as { logs: Array<{ message: string }> }
    expect(page.logs.map((l) => l.message).sort()).toEqual(['from java', 'from loki', 'line one', 'line two'])
  })

  it('reads a body sent after the head, then the next request on the same connection', async () => {
    server = await startTestServer({ shards: 1 })
    const body = JSON.stringify({ service: 'h2c', timestamp: isoAt(0), message: 'split' })
    const socket = connect(server.port, '127.0.0.1')
    let text = ''
    socket.setEncoding('latin1')
    const answers = new Promise<void>((resolve) => {
      socket.on('data', (d: string) => {
        text += d
        if ((text.match(/HTTP\/1\.1 /g) ?? []).length === 2 && text.endsWith('}')) resolve()
      })
    })
    socket.write(`POST /logs HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`)
    socket.write(body.slice(0, 10))
    await new Promise((resolve) => setTimeout(resolve, 50)) // the rest in another packet, as a slow client sends it
    socket.write(body.slice(10))
    socket.write('GET /services HTTP/1.1\r\nHost: localhost\r\n\r\n')
    await answers
    socket.destroy()
    expect(text).toMatch(/^HTTP\/1\.1 201 /)
    expect(text).toMatch(/HTTP\/1\.1 200 [^]*"h2c"/)
    expect(text).not.toMatch(/WebSocket/)
    expect((await readAll(server.url, 'service=h2c')).map((l) => l.message)).toEqual(['split'])
  })

  it('still refuses a WebSocket at a path that has none', async () => {
    server = await startTestServer({ shards: 1 })
    const socket = connect(server.port, '127.0.0.1')
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { text += d })
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.write('GET /logs HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
    await closed
    expect(text).toMatch(/^HTTP\/1\.1 404 [^]*no WebSocket at \/logs/)
  })
})
