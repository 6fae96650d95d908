import fc from 'fast-check'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, getJson, isoAt, postJson, readAll, startTestServer, type RunningServer } from './helpers.js'

// Property-based, like fuzz.test.ts and push-fuzz.test.ts: arbitrary bulk
// bodies and syslog streams against the running server. A bulk request gets
// a 200 with one item per action or an Elasticsearch-shaped 4xx, never a 5xx;
// exactly the items answered 201 are stored, with messages from that request,
// and nothing else in the store changes. A syslog client sending garbage
// next to a well-behaved one costs the well-behaved one nothing.

const MAX_BODY = 64 * 1024
let server: RunningServer
let url: string
let others: string

/** Everything stored outside the services a property run writes to (those start with "run-"). */
const outside = async (): Promise<string> => {
  const services = (await getJson(url, '/services')).body.services as Array<{ service: string, count: number }>
  return JSON.stringify(services.filter((s) => !s.service.startsWith('run-')))
}

beforeAll(async () => {
  server = await startTestServer({ shards: 2, maxBody: MAX_BODY, headersTimeout: 1500, requestTimeout: 1500, syslogTcpPort: 0, syslogUdpPort: 0 })
  url = server.url
  const seed = Array.from({ length: 20 }, (_, i) => ({ service: `seed${i % 4}`, timestamp: isoAt(-i * 1000, i), message: `seed ${i}` }))
  expect((await postJson(url, seed)).status).toBe(201)
})
afterAll(async () => { await server.close() })

let runs = 0
const nextService = (): string => `run-${++runs}`

const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(1e308, 2 ** 53 + 1, '', '\u0000', '\ud800', 'a'.repeat(300), '2026-02-30T00:00:00Z', isoAt(-1000), isoAt(-7200_000), Date.now() / 1000, Date.now() * 1e6)
)
const actionLine = fc.oneof(
  fc.constantFrom('{"create":{}}', '{"index":{}}', '{"index":{"_id":"x"}}', '{"delete":{"_id":"1"}}', '{"update":{"_id":"1"}}', '{"create":{"_index":""}}'),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 30 })
)
const docLine = fc.oneof(
  fc.record({ message: fc.string({ maxLength: 40 }), '@timestamp': fc.constantFrom(isoAt(-1000), isoAt(-2000, 7)) }).map((d) => JSON.stringify(d)),
  fc.dictionary(fc.constantFrom('message', 'msg', 'log', '_msg', 'time', '@timestamp', 'date', 'host', 'a.b', 'service', 'app'), anyJson, { maxKeys: 6 }).map((d) => JSON.stringify(d)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 })
)
const goodAction = fc.constantFrom('{"create":{}}', '{"index":{}}', '{"index":{"_id":"x"}}', '{"delete":{"_id":"1"}}')
const join = (lines: string[]): fc.Arbitrary<string> => fc.boolean().map((trailing) => lines.join('\n') + (trailing ? '\n' : ''))
const bulkBody = fc.oneof(
  // Well-formed pairs around arbitrary documents: answered per item.
  fc.array(fc.tuple(goodAction, docLine).map(([a, d]) => a.startsWith('{"delete"') ? a : `${a}\n${d}`), { minLength: 1, maxLength: 12 }).chain(join),
  // Anything: mostly refused whole.
  fc.array(fc.oneof(fc.tuple(actionLine, docLine).map(([a, d]) => `${a}\n${d}`), actionLine, docLine), { minLength: 0, maxLength: 12 }).chain(join)
)

/** Every text a document line of `body` could give as a message. */
function possibleMessages (body: string): Set<string> {
  const out = new Set<string>()
  for (const line of body.split('\n')) {
    let v: unknown
    try { v = JSON.parse(line) } catch { continue }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue
    for (const k of ['message', 'msg', 'log', '_msg']) {
      const m = (v as Record<string, unknown>)[k]
      if (m !== undefined && m !== null) out.add(typeof m === 'string' ? m : JSON.stringify(m))
    }
  }
  return out
}

describe('fuzzing POST /_bulk', () => {
  it('answers per item or in Elasticsearch\'s error shape, stores exactly the 201 items from the request, and nothing else', async () => {
    others = await outside()
    // How often each kind of answer came up: the generators must reach all of them.
    const seen = { stored: 0, itemErrors: 0, refused: 0 }
    await fc.assert(fc.asyncProperty(bulkBody, fc.boolean(), async (body, gzip) => {
      const service = nextService()
      // Every stored document of this run lands in its own service: the path's index, no service field.
      const res = await fetch(`${url}/${service}/_bulk?_service_field=__none__`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
        body: gzip ? gzipSync(body) : body
      })
      const answer = await res.json() as { errors?: boolean, items?: Array<Record<string, { status: number }>>, error?: { type: string, reason: string }, status?: number }
      const stored = await readAll(url, `service=${service}`)
      if (res.status === 200) {
        const statuses = answer.items!.map((item) => Object.values(item)[0]!.status)
        expect(statuses.every((s) => s === 201 || s === 400)).toBe(true)
        expect(answer.errors).toBe(statuses.includes(400))
        expect(stored.length).toBe(statuses.filter((s) => s === 201).length)
        seen.stored += stored.length
        seen.itemErrors += statuses.filter((s) => s === 400).length
        const possible = possibleMessages(body)
        for (const l of stored) expect(possible.has(l.message), l.message).toBe(true)
      } else {
        expect(res.status, JSON.stringify(answer)).toBeGreaterThanOrEqual(400)
        expect(res.status).toBeLessThan(500)
        expect(answer.status).toBe(res.status)
        expect(typeof answer.error?.reason).toBe('string')
        expect(stored).toEqual([])
        seen.refused++
      }
    }), { numRuns: 150 })
    expect(await outside()).toBe(others)
    expect(seen.stored).toBeGreaterThan(0)
    expect(seen.itemErrors).toBeGreaterThan(0)
    expect(seen.refused).toBeGreaterThan(0)
  })
})

/** Bytes a misbehaving syslog sender might write. */
const junk = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ maxLength: 100 }).map((s) => Buffer.from(`${s}\n`)),
  fc.tuple(fc.integer({ min: 1, max: 10 ** 9 }), fc.string({ maxLength: 50 })).map(([n, s]) => Buffer.from(`${n} ${s}`)),
  fc.constantFrom(Buffer.from('<13>1 - - - - - [unterminated k="v\n'), Buffer.from('<999>garbage\n'), Buffer.from('\u0000\u0000\u0000'), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
)

async function tcp (): Promise<Socket> {
  const socket = connect(server.syslog!.tcpPort!, '127.0.0.1')
  socket.on('error', () => {}) // the server may cut a garbage sender
  await once(socket, 'connect')
  return socket
}

/** Writes `bytes` cut at `cuts`, then ends; resolves once the socket is closed. */
async function sendAll (socket: Socket, bytes: Buffer, cuts: number[]): Promise<void> {
  let at = 0
  for (let k = 0; at < bytes.length && !socket.destroyed; k++) {
    const size = cuts[k % cuts.length]!
    socket.write(bytes.subarray(at, at + size))
    at += size
  }
  socket.end()
  if (!socket.closed) await once(socket, 'close')
}

describe('fuzzing the syslog listeners', () => {
  it('TCP: a garbage sender beside a good one never costs the good one a frame, nor stops the listener', async () => {
    await fc.assert(fc.asyncProperty(fc.array(junk, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }), async (garbage, count, cuts) => {
      const service = nextService()
      const frames = Array.from({ length: count }, (_, i) => {
        const msg = `<14>1 ${isoAt(-5000 + i)} h ${service} - - - good ${i}`
        return i % 2 === 0 ? `${Buffer.byteLength(msg)} ${msg}` : `${msg}\n`
      }).join('')
      const [good, bad] = await Promise.all([tcp(), tcp()])
      await Promise.all([sendAll(good, Buffer.from(frames), cuts), sendAll(bad, Buffer.concat(garbage), cuts)])
      let logs: Array<{ message: string }> = []
      await eventually(async () => (logs = await readAll(url, `service=${service}`)).length >= count, 5000)
      expect(logs.map((l) => l.message)).toEqual(Array.from({ length: count }, (_, i) => `good ${i}`))
    }), { numRuns: 40 })
    expect((await getJson(url, '/healthz')).status).toBe(200)
  })

  it('UDP: junk datagrams are dropped or kept raw, and good ones still arrive', async () => {
    const socket = createSocket('udp4')
    const send = (b: Uint8Array): Promise<void> => new Promise((resolve, reject) => socket.send(b, server.syslog!.udpPort!, '127.0.0.1', (err) => err ? reject(err) : resolve()))
    await fc.assert(fc.asyncProperty(fc.array(junk, { maxLength: 6 }), async (garbage) => {
      const service = nextService()
      for (const g of garbage) if (g.length > 0) await send(g)
      await send(Buffer.from(`<14>1 ${isoAt(-1000)} h ${service} - - - datagram`))
      expect(await eventually(async () => (await readAll(url, `service=${service}`)).length === 1, 5000)).toBe(true)
    }), { numRuns: 25 })
    socket.close()
  })
})
