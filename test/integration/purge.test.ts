import { afterEach, describe, expect, it } from 'vitest'
import { eventually, getJson, isoAt, postJson, startTestServer, type RunningServer } from './helpers.js'

let server: RunningServer | undefined
afterEach(async () => { await server?.close() })

describe('purge', () => {
  it('empties the store once entries pass a short RETENTION', async () => {
    server = await startTestServer({ shards: 2, retention: 1000, purgeInterval: 100 })
    const url = server.url
    const res = await postJson(url, Array.from({ length: 50 }, (_, i) => ({ service: `p${i % 5}`, timestamp: isoAt(-200), message: `m${i}` })))
    expect(res.status).toBe(201)
    // Query a fixed past range, so only purge (not the moving default window) can empty it.
    const start = encodeURIComponent(isoAt(-60_000))
    const end = encodeURIComponent(isoAt(60_000))
    expect((await getJson(url, `/logs?start=${start}&end=${end}`)).body.logs).toHaveLength(50)

    const emptied = await eventually(async () => (await getJson(url, `/logs?start=${start}&end=${end}`)).body.logs.length === 0, 10_000)
    expect(emptied).toBe(true)
    // Queries hide expired entries at once; the purge timer (every 100 ms here) then drops them.
    expect(await eventually(async () => (await getJson(url, '/services')).body.services.length === 0, 2000)).toBe(true)
  })

  it('keeps entries still inside the window', async () => {
    server = await startTestServer({ shards: 2, retention: 60_000, purgeInterval: 100 })
    await postJson(server.url, { service: 'keep', timestamp: isoAt(-100), message: 'stay' })
    // Several purge intervals pass; the entry must survive all of them.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await getJson(server.url, '/logs?service=keep')).body.logs).toHaveLength(1)
  })
})
