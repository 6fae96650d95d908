import { afterEach, describe, expect, it } from 'vitest'
import { eventually, getJson, isoAt, postJson, readAll, startTestServer, type RunningServer } from './helpers.js'

// The bounds of issue 7: services, memory, page bytes, query concurrency,
// and queries whose clients left.

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function postLines (url: string, lines: string[]): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
  return { status: res.status, body: await res.json() }
}

/** `n` entries of one service, 1 ms apart, ending now. */
async function fill (url: string, service: string, n: number): Promise<void> {
  const now = Date.now()
  for (let first = 0; first < n; first += 20_000) {
    const lines: string[] = []
    for (let i = first; i < Math.min(n, first + 20_000); i++) {
      lines.push(`{"service":"${service}","timestamp":"${new Date(now - n + i).toISOString()}","message":"entry ${i} of a long scan"}`)
    }
    expect((await postLines(url, lines)).status).toBe(201)
  }
}

describe('MAX_SERVICES', () => {
  it('refuses entries of new services past the limit with 507, listing them, and keeps taking known services', async () => {
    server = await startTestServer({ shards: 2, maxServices: 10 })
    const url = server.url
    const batch = Array.from({ length: 30 }, (_, i) => ({ service: `many-${i}`, timestamp: isoAt(-100), message: `m${i}` }))
    const res = await postJson(url, batch)
    expect(res.status).toBe(507)
    expect(res.body.code).toBe('LOGAGG_ERR_STORE_FULL')
    expect(res.body.stored).toBeGreaterThanOrEqual(8)
    expect(res.body.stored).toBeLessThanOrEqual(10)
    expect(res.body.rejected.length).toBe(30 - res.body.stored)
    expect(res.body.rejected[0].error).toMatch(/MAX_SERVICES/)
    const held = (await getJson(url, '/services')).body.services.map((s: { service: string }) => s.service)
    expect(held).toHaveLength(res.body.stored)
    // A service it holds still takes entries; a new one gets 507.
    expect((await postJson(url, { service: held[0], timestamp: isoAt(0), message: 'more' })).status).toBe(201)
    const single = await postJson(url, { service: 'brand-new', timestamp: isoAt(0), message: 'no room' })
    expect(single.status).toBe(507)
    expect(single.body.error).toMatch(/MAX_SERVICES/)
  })
})

describe('MAX_MEMORY', () => {
  it('answers 507 before a shard runs out of heap, with one new service per entry, and loses nothing acknowledged', async () => {
    server = await startTestServer({ shards: 2, maxMemory: 64 * 1048576, maxServices: 1_000_000 })
    const url = server.url
    let acknowledged = 0
    let refused = 0
    for (let b = 0; b < 8 && refused === 0; b++) {
      const lines = Array.from({ length: 25_000 }, (_, i) => `{"service":"u-${b}-${i}","timestamp":"${isoAt(-1000)}","message":"one entry of a new service"}`)
      const res = await postLines(url, lines)
      expect([201, 507]).toContain(res.status)
      if (res.status === 201) acknowledged += res.body.stored
      else refused++
    }
    expect(refused).toBe(1)
    expect(server.router.shards.every((s) => s.restarts === 0 && s.state === 'ready')).toBe(true)
    let stored = 0
    for (const s of server.router.shards) stored += s.usage.entries
    expect(stored).toBe(acknowledged)
  })
})

describe('GET /services', () => {
  it('pages services in name order with a next cursor, each once', async () => {
    server = await startTestServer({ shards: 4 })
    const url = server.url
    const names = Array.from({ length: 2500 }, (_, i) => `pg-${String(i).padStart(5, '0')}`)
    expect((await postLines(url, names.map((service) => `{"service":"${service}","timestamp":"${isoAt(-10)}","message":"x"}`))).status).toBe(201)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const { status, body }: { status: number, body: any } = await getJson(url, `/services?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`)
      expect(status).toBe(200)
      expect(body.services.length).toBeLessThanOrEqual(1000)
      seen.push(...body.services.map((s: { service: string }) => s.service))
      cursor = body.next
      pages++
    } while (cursor !== null && pages < 10)
    expect(pages).toBe(3)
    expect(seen).toEqual(names)
    expect((await getJson(url, '/services?limit=0')).status).toBe(400)
    expect((await getJson(url, '/services?cursor=nonsense!')).status).toBe(400)
    expect((await getJson(url, '/services?other=1')).status).toBe(400)
  })
})

describe('MAX_PAGE_BYTES', () => {
  it('stops a page early by bytes, and its next cursor continues it, every entry once', async () => {
    server = await startTestServer({ shards: 2, maxPageBytes: 64 * 1024 })
    const url = server.url
    const big = 'x'.repeat(4000)
    const batch = Array.from({ length: 100 }, (_, i) => ({ service: `big-${i % 3}`, timestamp: isoAt(-1000 + i), message: `${i} ${big}` }))
    expect((await postJson(url, batch)).status).toBe(201)
    const first = await getJson(url, '/logs?limit=1000')
    expect(first.body.logs.length).toBeGreaterThan(5)
    expect(first.body.logs.length).toBeLessThan(40)
    expect(first.body.next).not.toBeNull()
    const all = await readAll(url, 'limit=1000')
    expect(all.map((e) => Number(e.message.split(' ')[0]))).toEqual(batch.map((_, i) => i))
  })
})

describe('queries', () => {
  it('answer 503 with Retry-After past QUERY_CONCURRENCY on a shard', async () => {
    server = await startTestServer({ shards: 1, queryConcurrency: 1 })
    const url = server.url
    await fill(url, 'scan', 200_000)
    const answers = await Promise.all(Array.from({ length: 6 }, async () => {
      const res = await fetch(`${url}/logs?service=scan&contains=nowhere`)
      return { status: res.status, retry: res.headers.get('retry-after'), body: await res.json() as { code?: string } }
    }))
    expect(answers.some((a) => a.status === 200)).toBe(true)
    const refused = answers.filter((a) => a.status === 503)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused[0]!.body.code).toBe('LOGAGG_ERR_TOO_MANY_QUERIES')
    expect(Number(refused[0]!.retry)).toBeGreaterThanOrEqual(1)
  })

  it('stop when their clients leave, and ingest is stored while heavy queries run', async () => {
    server = await startTestServer({ shards: 1, queryConcurrency: 16, queryMaxScan: 1e9 })
    const url = server.url
    await fill(url, 'heavy', 300_000)
    const shard = server.router.shards[0]!
    const load = server.router.admission.load[0]!
    const scan = `${url}/logs?service=heavy&contains=zzz&limit=10000`
    // One whole scan of 300k entries for text that is nowhere, timed in this run: the yardstick for
    // "uncancelled", so the bounds below hold on a fast machine and on a busy one alike.
    const s0 = Date.now()
    expect((await fetch(scan)).status).toBe(200)
    const scanMs = Date.now() - s0
    // 16 such scans (QUERY_CONCURRENCY at its most) run one slice after another on the one shard
    // thread: uncancelled, about 16 × scanMs of work.
    const controllers = Array.from({ length: 16 }, () => new AbortController())
    const queries = controllers.map((c) => fetch(scan, { signal: c.signal }).catch(() => null))
    // Every query has reached the front and the shard is running some (no sleep: asked, not guessed).
    expect(await eventually(async () => { await shard.stats(); return load.queries === 16 && shard.usage.queries > 0 }, 10_000)).toBe(true)
    // A single entry is stored while they run: the scans give the thread back every few ms.
    const t0 = Date.now()
    expect((await postJson(url, { service: 'light', timestamp: isoAt(0), message: 'not starved' })).status).toBe(201)
    const postMs = Date.now() - t0
    for (const c of controllers) c.abort()
    await Promise.all(queries)
    // The shard itself stops running them (it reports how many it runs), and the front's count follows.
    const t1 = Date.now()
    expect(await eventually(async () => { await shard.stats(); return shard.usage.queries === 0 && load.queries === 0 }, 16 * scanMs + 10_000)).toBe(true)
    const drainMs = Date.now() - t1
    // Uncancelled, the 16 scans would keep the shard busy for 16 × scanMs; cancelled, they stop at
    // their next slice. Half of that leaves room for a noisy machine and still fails if they ran on.
    expect(drainMs).toBeLessThan(8 * scanMs)
    expect(postMs).toBeLessThan(8 * scanMs)
  })

  it('free their slots when a client leaves, so new queries are not refused (no cascade of 503s)', async () => {
    server = await startTestServer({ shards: 2, queryConcurrency: 2, queryMaxScan: 1e9 })
    const url = server.url
    await fill(url, 'cascade', 200_000)
    for (let round = 0; round < 3; round++) {
      const controllers = Array.from({ length: 2 }, () => new AbortController())
      const gone = controllers.map((c) => fetch(`${url}/logs?contains=zzz&limit=10000`, { signal: c.signal }).catch(() => null))
      await new Promise((resolve) => setTimeout(resolve, 30))
      for (const c of controllers) c.abort()
      await Promise.all(gone)
      // Once the server sees the clients gone, their scans stop at the next slice and free their slots.
      expect(await eventually(() => server!.router.admission.load.every((l) => l.queries === 0), 1000)).toBe(true)
      const answers = await Promise.all([0, 1].map(async () => (await fetch(`${url}/logs?service=cascade&limit=10`)).status))
      expect(answers).toEqual([200, 200])
    }
  })
})
