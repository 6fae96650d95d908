import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shardOf } from '../../src/core/hash.js'
import { getJson, isoAt, postJson, postNdjson, readAll, startTestServer, type RunningServer } from './helpers.js'

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ maxBody: 64 * 1024 })
  url = server.url
})
afterAll(async () => { await server.close() })

const count = async (service: string): Promise<number> => (await readAll(url, `service=${service}&limit=10000`)).length

describe('POST /logs, one entry', () => {
  it('stores it and answers 201 as the original service did; a GET right after sees it', async () => {
    const ts = isoAt(-1000, 123)
    const res = await postJson(url, { service: 'single', timestamp: ts, message: 'hello' })
    expect(res).toEqual({ status: 201, body: { status: 'Log entry stored' } })
    const { body } = await getJson(url, '/logs?service=single')
    expect(body.logs).toEqual([{ service: 'single', timestamp: ts.replace(/(\.\d{6})Z$/, '$1Z'), message: 'hello' }])
  })

  it('ignores fields other than service, timestamp and message', async () => {
    const res = await postJson(url, { service: 'extra', timestamp: isoAt(0), message: 'm', level: 'info', nested: { a: 1 } })
    expect(res.status).toBe(201)
    expect(await count('extra')).toBe(1)
  })

  it('accepts curl\'s default form content type as JSON, like the original service', async () => {
    const res = await postJson(url, { service: 'curl', timestamp: isoAt(0), message: 'm' }, { 'content-type': 'application/x-www-form-urlencoded' })
    expect(res.status).toBe(201)
  })

  const cases: Array<[string, unknown, RegExp]> = [
    ['service missing', { timestamp: isoAt(0), message: 'm' }, /service is missing/],
    ['service not a string', { service: 5, timestamp: isoAt(0), message: 'm' }, /service must be a string/],
    ['service empty', { service: '', timestamp: isoAt(0), message: 'm' }, /service must not be empty/],
    ['service too long', { service: 's'.repeat(257), timestamp: isoAt(0), message: 'm' }, /257 characters long; the limit is 256/],
    ['timestamp missing', { service: 'v', message: 'm' }, /timestamp is missing/],
    ['timestamp neither a string nor a number', { service: 'v', timestamp: true, message: 'm' }, /timestamp must be a string, .*, or a Unix time as a number; got a boolean/],
    ['timestamp an old Unix time', { service: 'v', timestamp: 1700000000, message: 'm' }, /timestamp 1700000000 \(2023-11-14T22:13:20.000000Z\) is older than the retention window/],
    ['timestamp not ISO', { service: 'v', timestamp: 'yesterday', message: 'm' }, /is not an ISO 8601 time/],
    ['impossible date', { service: 'v', timestamp: '2026-02-30T00:00:00Z', message: 'm' }, /is not an ISO 8601 time/],
    ['timestamp too old', { service: 'v', timestamp: isoAt(-2 * 3600_000), message: 'm' }, /older than the retention window/],
    ['timestamp in the future', { service: 'v', timestamp: isoAt(3600_000), message: 'm' }, /too far in the future/],
    ['message missing', { service: 'v', timestamp: isoAt(0) }, /message is missing/],
    ['message not a string', { service: 'v', timestamp: isoAt(0), message: { a: 1 } }, /message must be a string/],
    ['body a JSON string', '"just text"', /request body must be a JSON object/]
  ]
  for (const [name, body, error] of cases) {
    it(`rejects ${name} with 400 and a reason, storing nothing`, async () => {
      const res = await postJson(url, body)
      expect(res.status).toBe(400)
      expect(res.body.error).toMatch(error)
      expect(await count('v')).toBe(0)
    })
  }

  it('rejects a body that is not JSON', async () => {
    const res = await postJson(url, '{"service": "v", ')
    expect(res.status).toBe(400)
    expect(res.body.error).toMatch(/not valid JSON/)
  })

  it('rejects an empty body and an empty array', async () => {
    expect((await postJson(url, '')).status).toBe(400)
    const res = await postJson(url, [])
    expect(res.status).toBe(400)
    expect(res.body.error).toMatch(/empty array/)
  })

  it('rejects a message over 256 KiB', async () => {
    const server2 = await startTestServer({ shards: 1 })
    try {
      const res = await postJson(server2.url, { service: 'big', timestamp: isoAt(0), message: 'x'.repeat(256 * 1024 + 1) })
      expect(res.status).toBe(400)
      expect(res.body.error).toMatch(/larger than 256 KiB/)
      const ok = await postJson(server2.url, { service: 'big', timestamp: isoAt(0), message: 'x'.repeat(256 * 1024) })
      expect(ok.status).toBe(201)
    } finally {
      await server2.close()
    }
  })
})

describe('POST /logs, batches', () => {
  it('stores a JSON array and answers {stored: n}', async () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({ service: `arr-${i % 3}`, timestamp: isoAt(-i * 10), message: `m${i}` }))
    const res = await postJson(url, entries)
    expect(res).toEqual({ status: 201, body: { stored: 20 } })
    const all = await readAll(url, 'service=arr-0&service=arr-1&service=arr-2')
    expect(all.map((e) => e.message).sort()).toEqual(entries.map((e) => e.message).sort())
  })

  it('stores NDJSON, ignoring blank lines', async () => {
    const lines = ['', JSON.stringify({ service: 'nd', timestamp: isoAt(-5), message: 'a' }), '   ', JSON.stringify({ service: 'nd', timestamp: isoAt(-4), message: 'b' }), '']
    const res = await postNdjson(url, lines)
    expect(res).toEqual({ status: 201, body: { stored: 2 } })
    expect(await count('nd')).toBe(2)
  })

  it('stores the valid entries of a mixed batch and lists the rejected ones by index', async () => {
    const res = await postJson(url, [
      { service: 'mix', timestamp: isoAt(0), message: 'ok 0' },
      { service: 'mix', timestamp: 'bad', message: 'no' },
      { service: 'mix', timestamp: isoAt(0), message: 'ok 2' },
      42
    ])
    expect(res.status).toBe(400)
    expect(res.body.stored).toBe(2)
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 3])
    expect(res.body.rejected[0].error).toMatch(/not an ISO 8601 time/)
    expect(res.body.rejected[1].error).toMatch(/must be a JSON object/)
    expect((await readAll(url, 'service=mix')).map((e) => e.message)).toEqual(['ok 0', 'ok 2'])
  })

  it('stores NDJSON lines written in any JSON spelling under their real service', async () => {
    // A nested "service" key first, on another shard than the real one, sends the line to the wrong shard at first.
    let inner = 'inner-0'
    for (let i = 0; shardOf(inner, 4) === shardOf('nd-real', 4); i++) inner = `inner-${i}`
    const res = await postNdjson(url, [
      JSON.stringify({ meta: { service: inner }, service: 'nd-real', timestamp: isoAt(-3), message: 'nested' }),
      `{ "service" : "nd-real", "timestamp" : "${isoAt(-2)}", "message" : "spaced" }`,
      JSON.stringify({ service: 'nd-real', timestamp: isoAt(-1), message: 'quote " and \\ backslash' })
    ])
    expect(res).toEqual({ status: 201, body: { stored: 3 } })
    expect((await readAll(url, 'service=nd-real')).map((e) => e.message)).toEqual(['nested', 'spaced', 'quote " and \\ backslash'])
    expect(await count(inner)).toBe(0)
  })

  it('rejects an NDJSON line that is not JSON by its index and stores the rest', async () => {
    const res = await postNdjson(url, [
      JSON.stringify({ service: 'ndbad', timestamp: isoAt(0), message: 'first' }),
      '{not json',
      JSON.stringify({ service: 'ndbad', timestamp: isoAt(0), message: 'third' })
    ])
    expect(res.status).toBe(400)
    expect(res.body.stored).toBe(2)
    expect(res.body.rejected).toEqual([{ index: 1, error: expect.stringMatching(/not valid JSON/) }])
    expect(await count('ndbad')).toBe(2)
  })
})

describe('POST /logs, timestamps', () => {
  it('takes a Unix time in seconds, ms, µs or ns (JSON and NDJSON) and stores it at that time', async () => {
    const ms = Date.now() - 5000
    const us = ms * 1000 + 123
    const want = new Date(ms).toISOString().slice(0, 23)
    expect((await postJson(url, { service: 'epoch-one', timestamp: ms / 1000, message: 'seconds' })).status).toBe(201)
    const batch = [{ service: 'epoch-json', timestamp: ms, message: 'ms' }, { service: 'epoch-json', timestamp: us, message: 'us' }, { service: 'epoch-json', timestamp: us * 1000, message: 'ns' }]
    expect(await postJson(url, batch)).toEqual({ status: 201, body: { stored: 3 } })
    const lines = batch.map((e) => JSON.stringify({ ...e, service: 'epoch-nd' })).concat(JSON.stringify({ service: 'epoch-nd', timestamp: ms / 1000, message: 'seconds' }))
    expect(await postNdjson(url, lines)).toEqual({ status: 201, body: { stored: 4 } })
    const stamps = async (service: string): Promise<Record<string, string>> =>
      Object.fromEntries((await readAll(url, `service=${service}`)).map((l) => [l.message, l.timestamp]))
    expect(await stamps('epoch-one')).toEqual({ seconds: `${want}000Z` })
    for (const service of ['epoch-json', 'epoch-nd']) {
      const got = await stamps(service)
      expect(got.ms).toBe(`${want}000Z`)
      expect(got.us).toBe(`${want}123Z`)
      expect(got.ns).toBe(`${want}123Z`)
    }
    expect((await stamps('epoch-nd')).seconds).toBe(`${want}000Z`)
  })

  it('refuses a zone-less time far from now with 400 saying it was read as UTC, how far, and which offset to add', async () => {
    const local = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 19) // datetime.now().isoformat() at UTC+2
    const res = await postJson(url, { service: 'v', timestamp: local, message: 'm' })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe(`timestamp ${local} has no zone and was read as UTC: 2 h 0 min in the future (more than FUTURE_SKEW); add Z or an offset such as +02:00`)
    const nd = await postNdjson(url, [JSON.stringify({ service: 'v', timestamp: local, message: 'm' })])
    expect(nd.status).toBe(400)
    expect(nd.body.rejected[0].error).toMatch(/has no zone and was read as UTC: 2 h 0 min in the future/)
    expect(await count('v')).toBe(0)
  })
})

describe('POST /logs, limits and methods', () => {
  it('answers 413 with JSON for a body over MAX_BODY and stays healthy', async () => {
    const message = 'x'.repeat(1000)
    const entries = Array.from({ length: 100 }, () => ({ service: 'huge', timestamp: isoAt(0), message }))
    const res = await postJson(url, entries)
    expect(res.status).toBe(413)
    expect(res.body.error).toMatch(/larger than the 65536 byte limit/)
    expect(await count('huge')).toBe(0)
    expect((await getJson(url, '/healthz')).status).toBe(200)
    expect((await postJson(url, entries.slice(0, 10))).status).toBe(201)
  })

  it('accepts a gzip-compressed body', async () => {
    const body = gzipSync(JSON.stringify([{ service: 'gz', timestamp: isoAt(0), message: 'zipped' }]))
    const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body })
    expect(res.status).toBe(201)
    expect((await readAll(url, 'service=gz')).map((e) => e.message)).toEqual(['zipped'])
  })

  it('answers 415 for a content type it does not read', async () => {
    const res = await postJson(url, '<log/>', { 'content-type': 'application/xml' })
    expect(res.status).toBe(415)
    expect(res.body.error).toMatch(/application\/x-ndjson/)
  })

  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    it(`answers 405 with JSON to ${method} /logs`, async () => {
      const res = await fetch(`${url}/logs`, { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('GET, HEAD, POST')
      expect(((await res.json()) as { error: string }).error).toMatch(new RegExp(`${method} is not allowed`))
    })
  }

  it('answers 404 with JSON for an unknown path', async () => {
    const { status, body } = await getJson(url, '/nothing-here')
    expect(status).toBe(404)
    expect(body.error).toMatch(/no route/)
  })
})
