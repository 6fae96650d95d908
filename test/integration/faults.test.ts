import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { shardOf } from '../../src/core/hash.js'
import { eventually, getJson, isoAt, postJson, readAll, startFixtureServer, kTestInternals, type RunningServer } from './helpers.js'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
  delete process.env.LOGAGG_TEST_FAIL_AT_START
})

/** A service name owned by `shard` of `shards`. */
function serviceOn (shard: number, shards: number, prefix = 'svc'): string {
  for (let i = 0; ; i++) if (shardOf(`${prefix}-${i}`, shards) === shard) return `${prefix}-${i}`
}

describe('a shard worker that dies', () => {
  it('is noticed, answered with 503 while it restarts, logged, and restarted without harming other shards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logagg-'))
    const failFile = join(dir, 'fail')
    process.env.LOGAGG_TEST_FAIL_AT_START = failFile
    const logs: string[] = []
    server = await startFixtureServer({ shards: 2 }, logs)
    const url = server.url
    const victim = serviceOn(0, 2, 'victim')
    const survivor = serviceOn(1, 2, 'survivor')
    expect((await postJson(url, { service: victim, timestamp: isoAt(0), message: 'before' })).status).toBe(201)
    expect((await postJson(url, { service: survivor, timestamp: isoAt(0), message: 'kept' })).status).toBe(201)

    // New workers for shard 0 will die while starting until the file goes away.
    writeFileSync(failFile, '')
    await server[kTestInternals].workers[0]!.sendRaw({ type: 'crash' }).catch(() => {})
    expect(await eventually(() => server!.router.shards[0]!.state !== 'ready', 5000)).toBe(true)

    const down = await postJson(url, { service: victim, timestamp: isoAt(0), message: 'during' })
    expect(down.status).toBe(503)
    expect(down.body.error).toMatch(/shard 0 .*restarting after a crash.*retry in/)
    const res = await fetch(`${url}/logs?service=${victim}`)
    expect(res.status).toBe(503)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await getJson(url, '/healthz')).status).toBe(503)

    // The other shard keeps serving.
    expect((await postJson(url, { service: survivor, timestamp: isoAt(0), message: 'still' })).status).toBe(201)
    expect((await readAll(url, `service=${survivor}`)).map((e) => e.message)).toEqual(['kept', 'still'])

    // Dying at start does not become a tight loop: restarts back off (100, 200, 400, 800 ms ...).
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const restarts = server.router.shards[0]!.restarts
    expect(restarts).toBeGreaterThanOrEqual(1)
    expect(restarts).toBeLessThanOrEqual(6)

    rmSync(dir, { recursive: true, force: true })
    expect(await eventually(async () => (await getJson(url, '/healthz')).status === 200, 15_000)).toBe(true)
    expect((await postJson(url, { service: victim, timestamp: isoAt(0), message: 'after' })).status).toBe(201)
    // What the dead worker held is gone (memory only); what came after is there.
    expect((await readAll(url, `service=${victim}`)).map((e) => e.message)).toEqual(['after'])

    const events = logs.map((l) => JSON.parse(l) as { msg: string, shard?: number })
    expect(events.some((e) => e.msg.startsWith('shard worker died') && e.shard === 0)).toBe(true)
    expect(events.some((e) => e.msg === 'shard worker restarted' && e.shard === 0)).toBe(true)
  })

  it('answers /healthz with 503 until every shard has started, then 200', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logagg-'))
    const failFile = join(dir, 'fail')
    writeFileSync(failFile, '')
    process.env.LOGAGG_TEST_FAIL_AT_START = failFile
    server = await startFixtureServer({ shards: 2 })
    const before = await getJson(server.url, '/healthz')
    expect(before.status).toBe(503)
    expect(before.body.error).toMatch(/not every shard is ready/)
    expect((await postJson(server.url, { service: 'early', timestamp: isoAt(0), message: 'm' })).status).toBe(503)
    rmSync(dir, { recursive: true, force: true })
    expect(await eventually(async () => (await getJson(server!.url, '/healthz')).status === 200, 15_000)).toBe(true)
    expect((await postJson(server.url, { service: 'early', timestamp: isoAt(0), message: 'm' })).status).toBe(201)
  })

  it('survives a worker terminated from outside', async () => {
    server = await startFixtureServer({ shards: 2 })
    const thread = server[kTestInternals].workers[1]!.thread
    expect(thread).toBeDefined()
    await thread!.terminate()
    expect(await eventually(async () => (await getJson(server!.url, '/healthz')).status === 200 && server!.router.shards[1]!.restarts === 1, 10_000)).toBe(true)
    const svc = serviceOn(1, 2)
    expect((await postJson(server.url, { service: svc, timestamp: isoAt(0), message: 'back' })).status).toBe(201)
  })
})

describe('overload', () => {
  it('answers 429 with Retry-After when a shard queue is full, and stores every acknowledged entry', async () => {
    server = await startFixtureServer({ shards: 1, queueLimit: 50 })
    const url = server.url
    const batch = (k: number): unknown[] => Array.from({ length: 20 }, (_, i) => ({ service: 'busy', timestamp: isoAt(0), message: `b${k}-${i}` }))
    const stall = server[kTestInternals].workers[0]!.sendRaw({ type: 'stall', ms: 1000 })
    const answers = await Promise.all(Array.from({ length: 6 }, async (_, k) => {
      const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch(k)) })
      return { k, status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() as { error?: string } }
    }))
    await stall
    const refused = answers.filter((a) => a.status === 429)
    const stored = answers.filter((a) => a.status === 201)
    expect(refused.length).toBeGreaterThan(0)
    expect(stored.length).toBeGreaterThan(0)
    expect(refused.length + stored.length).toBe(6)
    for (const r of refused) {
      expect(r.retryAfter).toBe('1')
      expect(r.body.error).toMatch(/QUEUE_LIMIT/)
    }
    const messages = new Set((await readAll(url, 'service=busy')).map((e) => e.message))
    expect(messages.size).toBe(stored.length * 20)
    for (const a of stored) expect(messages.has(`b${a.k}-0`)).toBe(true)
  })

  it('answers 507 at MAX_ENTRIES without evicting anything, and takes entries again after purge frees room', async () => {
    server = await startFixtureServer({ shards: 2, maxEntries: 100, retention: 2000, purgeInterval: 200 })
    const url = server.url
    const old = Array.from({ length: 100 }, (_, i) => ({ service: `cap${i % 4}`, timestamp: isoAt(-1500), message: `old${i}` }))
    expect((await postJson(url, old)).status).toBe(201)
    const full = await postJson(url, { service: 'cap0', timestamp: isoAt(0), message: 'one too many' })
    expect(full.status).toBe(507)
    expect(full.body.error).toMatch(/MAX_ENTRIES is 100/)
    expect((await readAll(url, 'service=cap0&service=cap1&service=cap2&service=cap3')).length).toBe(100)
    // The old entries expire within about 500 ms; the usage poll then sees the room.
    expect(await eventually(async () => (await postJson(url, { service: 'cap0', timestamp: isoAt(0), message: 'room again' })).status === 201, 10_000)).toBe(true)
  })

  it('answers 507 at MAX_MEMORY', async () => {
    server = await startFixtureServer({ shards: 2, maxMemory: 64 * 1024 })
    const message = 'x'.repeat(1000)
    const statuses: number[] = []
    for (let i = 0; i < 100; i++) statuses.push((await postJson(server.url, { service: `m${i % 3}`, timestamp: isoAt(0), message })).status)
    const firstRefused = statuses.indexOf(507)
    expect(firstRefused).toBeGreaterThan(30)
    expect(statuses.slice(0, firstRefused).every((s) => s === 201)).toBe(true)
    expect(statuses.slice(firstRefused).every((s) => s === 507)).toBe(true)
    const res = await postJson(server.url, { service: 'm0', timestamp: isoAt(0), message })
    expect(res.body.error).toMatch(/MAX_MEMORY is 0 MiB|MAX_MEMORY/)
  })

  it('answers 503 to a query past QUERY_MAX_SCAN, and the shard goes on serving', async () => {
    server = await startFixtureServer({ shards: 1, queryMaxScan: 1000 })
    const entries = Array.from({ length: 3000 }, (_, i) => ({ service: 'scan', timestamp: isoAt(-i), message: `line ${i}` }))
    expect((await postJson(server.url, entries)).status).toBe(201)
    const { status, body } = await getJson(server.url, '/logs?service=scan&contains=no-such-text')
    expect(status).toBe(503)
    expect(body.error).toMatch(/QUERY_MAX_SCAN/)
    const ok = await getJson(server.url, '/logs?service=scan&limit=10')
    expect(ok.status).toBe(200)
    expect(ok.body.logs).toHaveLength(10)
  })

  it('answers 503 to a query past QUERY_TIMEOUT while its shard is stuck; other shards keep serving', async () => {
    server = await startFixtureServer({ shards: 2, queryTimeout: 300 })
    const stuck = serviceOn(0, 2)
    const free = serviceOn(1, 2)
    await postJson(server.url, [{ service: stuck, timestamp: isoAt(0), message: 'a' }, { service: free, timestamp: isoAt(0), message: 'b' }])
    const stall = server[kTestInternals].workers[0]!.sendRaw({ type: 'stall', ms: 1500 })
    const started = Date.now()
    const { status, body } = await getJson(server.url, `/logs?service=${stuck}`)
    expect(status).toBe(503)
    expect(body.error).toMatch(/QUERY_TIMEOUT/)
    expect(Date.now() - started).toBeLessThan(1400)
    expect((await getJson(server.url, `/logs?service=${free}`)).body.logs).toHaveLength(1)
    await stall
  })
})
