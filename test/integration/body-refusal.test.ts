import { connect, type Socket } from 'node:net'
import { deflateSync, gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { isoAt, startTestServer, type RunningServer } from './helpers.js'

// Issue 7, items 9 and 10: uploads that will be refused are not read, and
// zlib's errors have a LOGAGG_ERR code.

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const TOKEN = 'ingest-only-token-0123456789'

interface Raw { socket: Socket, text: () => string, closed: Promise<void> }

/** A raw connection that collects what the server sends. */
function open (): Raw {
  const socket = connect(server!.port, '127.0.0.1')
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => { text += d })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { socket, text: () => text, closed }
}

const waitFor = async (raw: Raw, pattern: RegExp): Promise<string> => {
  for (let i = 0; i < 200 && !pattern.test(raw.text()); i++) await new Promise((resolve) => setTimeout(resolve, 25))
  return raw.text()
}

const head = (headers: Record<string, string | number>): string =>
  `POST /logs HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`

const ENTRY = (): string => JSON.stringify({ service: 'cont', timestamp: isoAt(0), message: 'm' })

describe('Expect: 100-continue', () => {
  const cases: Array<[string, Record<string, string | number>, number]> = [
    ['413 for a Content-Length over MAX_BODY', { 'content-type': 'application/json', 'content-length': 2 * 1024 * 1024, authorization: `Bearer ${TOKEN}` }, 413],
    ['401 without the token', { 'content-type': 'application/json', 'content-length': 100 }, 401],
    ['415 for a content type it does not read', { 'content-type': 'image/png', 'content-length': 100, authorization: `Bearer ${TOKEN}` }, 415],
    ['403 for a foreign Origin', { 'content-type': 'application/json', 'content-length': 100, origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` }, 403]
  ]
  for (const [name, headers, status] of cases) {
    it(`answers ${name} without inviting the body, and closes`, async () => {
      server = await startTestServer({ shards: 1, maxBody: 1024 * 1024, ingestToken: TOKEN })
      const raw = open()
      raw.socket.write(head({ ...headers, expect: '100-continue' }))
      await raw.closed
      expect(raw.text()).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
      expect(raw.text()).not.toMatch(/100 Continue/)
      expect(raw.text()).toMatch(/connection: close/i)
    })
  }

  it('invites a body that passes every check and stores it', async () => {
    server = await startTestServer({ shards: 1, ingestToken: TOKEN })
    const raw = open()
    const body = ENTRY()
    raw.socket.write(head({ 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${TOKEN}`, expect: '100-continue' }))
    expect(await waitFor(raw, /100 Continue\r\n\r\n/)).toMatch(/^HTTP\/1\.1 100 Continue/)
    raw.socket.write(body)
    expect(await waitFor(raw, /Log entry stored/)).toMatch(/HTTP\/1\.1 201 /)
    raw.socket.destroy()
  })
})

describe('refusing a large body closes instead of reading it', () => {
  it('answers 401 to a token-less 10 GiB upload at once and closes the connection', async () => {
    server = await startTestServer({ shards: 1, ingestToken: TOKEN })
    const raw = open()
    raw.socket.write(head({ 'content-type': 'application/json', 'content-length': 10 * 1024 ** 3 }) + '['.repeat(1024))
    await raw.closed
    expect(raw.text()).toMatch(/^HTTP\/1\.1 401 /)
    expect(raw.text()).toMatch(/connection: close/i)
  })

  it('keeps the connection for a small refused body', async () => {
    server = await startTestServer({ shards: 1, ingestToken: TOKEN })
    const raw = open()
    const body = ENTRY()
    raw.socket.write(head({ 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body)
    expect(await waitFor(raw, /LOGAGG_ERR_UNAUTHORIZED/)).toMatch(/connection: keep-alive/i)
    raw.socket.destroy()
  })

  it('answers 413 as soon as a gzip upload inflates past MAX_BODY, while it is still being sent, and closes', async () => {
    server = await startTestServer({ shards: 1, maxBody: 1024 * 1024 })
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32))
    const raw = open()
    // Everything but the last bytes: the upload is not finished when the answer comes.
    raw.socket.write(head({ 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bomb.length }))
    raw.socket.write(bomb.subarray(0, bomb.length - 16))
    await raw.closed
    expect(raw.text()).toMatch(/^HTTP\/1\.1 413 /)
    expect(raw.text()).toMatch(/LOGAGG_ERR_BODY_TOO_LARGE/)
  })
})

describe('zlib errors', () => {
  for (const cors of [false, true]) {
    it(`answers 400 LOGAGG_ERR_BAD_ENCODING for a body that is not gzip/deflate (${cors ? 'Express' : 'fast path'})`, async () => {
      server = await startTestServer({ shards: 1, ...(cors ? { corsOrigin: '*' } : {}) })
      const post = async (encoding: string, body: Buffer): Promise<{ status: number, body: any }> => {
        const res = await fetch(`${server!.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body })
        return { status: res.status, body: await res.json() }
      }
      const zipped = gzipSync(ENTRY())
      for (const [encoding, body] of [['gzip', Buffer.from('not gzip at all')], ['gzip', zipped.subarray(0, zipped.length - 8)], ['deflate', Buffer.from('nope')]] as const) {
        const res = await post(encoding, body)
        expect(res.status).toBe(400)
        expect(res.body.code).toBe('LOGAGG_ERR_BAD_ENCODING')
        expect(res.body.error).toMatch(/not valid gzip\/deflate/)
      }
      expect((await post('deflate', deflateSync(ENTRY()))).status).toBe(201)
      expect((await post('gzip', zipped)).status).toBe(201)
      expect((await post('br', zipped)).status).toBe(415)
    })
  }
})
