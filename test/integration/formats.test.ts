import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, isoAt, postJson, postNdjson, startTestServer, type RunningServer } from './helpers.js'

// Issue 7, item 10: what the server accepts in service names and timestamps.

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  url = server.url
})
afterAll(async () => { await server.close() })

describe('service names', () => {
  it('refuses control characters and lone surrogates with 400, naming the problem', async () => {
    for (const service of ['ansi\u001b[31m', 'nl\n', 'del\u007f', 'c1\u0085']) {
      const res = await postJson(url, { service, timestamp: isoAt(0), message: 'm' })
      expect(res.status, JSON.stringify(service)).toBe(400)
      expect(res.body.code).toBe('LOGAGG_ERR_INVALID_ENTRY')
      expect(res.body.error).toMatch(/control character U\+00[0-9a-f]{2}/)
    }
    const lone = await postJson(url, `{"service":"x\\ud800","timestamp":"${isoAt(0)}","message":"m"}`)
    expect(lone.status).toBe(400)
    expect(lone.body.error).toMatch(/lone surrogate/)
  })

  it('refuses them in NDJSON lines by index, storing the others', async () => {
    const res = await postNdjson(url, [
      JSON.stringify({ service: 'fine', timestamp: isoAt(0), message: 'm' }),
      JSON.stringify({ service: 'bad\u001b', timestamp: isoAt(0), message: 'm' })
    ])
    expect(res.status).toBe(400)
    expect(res.body.stored).toBe(1)
    expect(res.body.rejected).toEqual([{ index: 1, error: expect.stringMatching(/control character U\+001b/) }])
  })

  it('refuses them in the service parameter of GET /logs', async () => {
    const res = await getJson(url, '/logs?service=a%1B%5B0m')
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('LOGAGG_ERR_BAD_QUERY')
    expect(res.body.error).toMatch(/control character U\+001b/)
  })
})

describe('timestamps', () => {
  it('accepts a leap second as the last microsecond of its minute', async () => {
    const minute = new Date(Date.now() - 120_000).toISOString().slice(0, 16) // YYYY-MM-DDTHH:MM
    const res = await postJson(url, { service: 'leap', timestamp: `${minute}:60Z`, message: 'leap' })
    expect(res.status).toBe(201)
    const { body } = await getJson(url, '/logs?service=leap')
    expect(body.logs).toEqual([{ service: 'leap', timestamp: `${minute}:59.999999Z`, message: 'leap' }])
  })
})
