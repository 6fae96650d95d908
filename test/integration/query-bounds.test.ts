import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, startTestServer, type RunningServer } from './helpers.js'

// Issue 7, item 6: parameters past the 1000th were silently dropped.

let server: RunningServer
beforeAll(async () => { server = await startTestServer({ shards: 2 }) })
afterAll(async () => { await server.close() })

describe('GET /logs query string bounds', () => {
  it('never drops a parameter: a bad limit after 1000 others is not ignored', async () => {
    // node:querystring kept the 1000 service parameters, dropped the limit and answered 200.
    const res = await getJson(server.url, `/logs?${'service=x&'.repeat(1000)}limit=oops`)
    expect(res.status).not.toBe(200)
    expect([400, 414]).toContain(res.status)
    expect(res.body.code).toMatch(/^LOGAGG_ERR_(BAD_QUERY|QUERY_TOO_LONG)$/)
  })

  it('answers 400 past 256 parameters and 414 past 8 KiB, on the fast path and through Express', async () => {
    for (const cors of [false, true]) {
      const s = cors ? await startTestServer({ shards: 1, corsOrigin: '*' }) : server
      try {
        const many = await getJson(s.url, `/logs?${Array.from({ length: 257 }, (_, i) => `service=s${i}`).join('&')}`)
        expect(many.status).toBe(400)
        expect(many.body.error).toMatch(/more than 256 parameters/)
        const long = await getJson(s.url, `/logs?contains=${'x'.repeat(8200)}`)
        expect(long.status).toBe(414)
        expect(long.body.code).toBe('LOGAGG_ERR_QUERY_TOO_LONG')
        expect((await getJson(s.url, `/logs?${Array.from({ length: 256 }, (_, i) => `service=s${i}`).join('&')}`)).status).toBe(200)
      } finally {
        if (cors) await s.close()
      }
    }
  })
})
