import { describe, expect, it, vi } from 'vitest'
import type { After, IngestBatch, LineBatch, QueryPart, ShardQuery } from '../../src/store/shard-messages.js'
import { putBatch, putLines } from '../../src/ingest/shard-ingest.js'
import { BatchBuilder } from '../../src/shards/batch-builder.js'
import { BLOCK_ENTRIES } from '../../src/store/block.js'
import { SealedBlock } from '../../src/store/sealed-block.js'
import { blockArena } from '../../src/store/block-arena.js'
import { QueryBudgetError } from '../../src/store/budget.js'
import { ShardStore } from '../../src/store/shard-store.js'
import { byTsSeq, seeded } from './random.js'

/** Stores a batch the way a shard handler does: put through the store's sink. */
const put = (store: ShardStore, batch: IngestBatch): { count: number, full: number[] } => store.ingest((sink) => putBatch(batch, sink))

interface Row { service: string, ts: number, seq: number, message: string }

/** A batch in the column layout, written out by hand. */
function handBatch (rows: Row[]): IngestBatch {
  const services: string[] = []
  const idx: number[] = []
  for (const r of rows) {
    let i = services.indexOf(r.service)
    if (i === -1) i = services.push(r.service) - 1
    idx.push(i)
  }
  return {
    streams: services.map((service) => ({ service, labels: [] })),
    streamIdx: Uint32Array.from(idx),
    ts: Float64Array.from(rows.map((r) => r.ts)),
    seq: Float64Array.from(rows.map((r) => r.seq)),
    messages: rows.map((r) => r.message),
    attrCount: new Uint8Array(rows.length),
    attrs: []
  }
}

/** The same through BatchBuilder, as the front thread does it. */
function builtBatch (rows: Row[]): IngestBatch {
  const b = new BatchBuilder()
  for (const r of rows) b.add({ service: r.service, ts: r.ts, message: r.message, labels: null, attributes: null }, r.seq)
  return b.build()
}

/** A part's entries as rows, each read from its own slice of the rendered JSON (which checks `ends`). */
function rows (part: QueryPart): Row[] {
  const out: Row[] = []
  expect(part.ends.length).toBe(part.ts.length)
  const body = Buffer.from(part.body.buffer, part.body.byteOffset, part.body.length)
  if (part.ts.length === 0) expect(body.length).toBe(0)
  for (let i = 0; i < part.ts.length; i++) {
    const text = body.subarray(i === 0 ? 0 : part.ends[i - 1]! + 1, part.ends[i]).toString('utf8')
    const e = JSON.parse(text) as { service: string, timestamp: string, message: string }
    expect(Object.keys(e).slice(0, 3)).toEqual(['service', 'timestamp', 'message'])
    expect(Date.parse(e.timestamp) * 1000).toBe(Math.floor(part.ts[i]! / 1000) * 1000)
    out.push({ service: e.service, ts: part.ts[i]!, seq: part.seq[i]!, message: e.message })
  }
  expect(body.length).toBe(part.ts.length === 0 ? 0 : part.ends[part.ts.length - 1])
  return out
}

function query (q: Partial<ShardQuery>): ShardQuery {
  return { id: 1, services: null, start: -Infinity, end: Infinity, descending: false, limit: 1_000_000, after: null, contains: null, attrs: [], maxBytes: Infinity, ...q }
}

/** What a query must return, computed the slow way from every row ingested. */
function reference (all: Row[], q: ShardQuery): Row[] {
  const strictlyAfter = (r: Row, a: After): boolean => q.descending
    ? r.ts < a.ts || (r.ts === a.ts && r.seq < a.seq)
    : r.ts > a.ts || (r.ts === a.ts && r.seq > a.seq)
  const matches = all.filter((r) =>
    (q.services === null || q.services.includes(r.service)) &&
    r.ts >= q.start && r.ts <= q.end &&
    (q.contains === null || r.message.includes(q.contains)) &&
    (q.after === null || strictlyAfter(r, q.after)))
  matches.sort(byTsSeq)
  if (q.descending) matches.reverse()
  return matches.slice(0, q.limit)
}

/** Random rows over a few services, arriving in seq order with ties and late entries. */
function randomRows (seed: number, n: number, services: string[]): Row[] {
  const rnd = seeded(seed)
  const words = ['alpha', 'beta', 'gamma', 'delta', 'error', 'timeout']
  const out: Row[] = []
  for (let seq = 1; seq <= n; seq++) {
    out.push({
      service: rnd.pick(services),
      ts: rnd.int(0, n / 4) * 10, // many equal timestamps, in and across services
      seq,
      message: `${rnd.pick(words)} ${rnd.pick(words)} #${seq}`
    })
  }
  return out
}

describe('ShardStore', () => {
  const sample: Row[] = [
    { service: 'api', ts: 10, seq: 1, message: 'api one' },
    { service: 'db', ts: 15, seq: 2, message: 'db one' },
    { service: 'api', ts: 20, seq: 3, message: 'api two' },
    { service: 'db', ts: 20, seq: 4, message: 'db two' },
    { service: 'api', ts: 30, seq: 5, message: 'api three' },
    { service: 'web', ts: 5, seq: 6, message: 'web late' },
    { service: 'db', ts: 40, seq: 7, message: 'db three' }
  ]

  function loaded (): ShardStore {
    const store = new ShardStore()
    put(store, handBatch(sample))
    return store
  }

  it('ingests a hand-built batch and counts what it stored', () => {
    const store = new ShardStore()
    expect(put(store, handBatch(sample)).count).toBe(7)
    expect(store.entries).toBe(7)
    expect(put(store, handBatch([{ service: 'api', ts: 50, seq: 8, message: 'more' }])).count).toBe(1)
    expect(store.entries).toBe(8)
    expect([...store.services.keys()].sort()).toEqual(['api', 'db', 'web'])
  })

  it('stores the same entries from a BatchBuilder batch as from a hand-built one', () => {
    const a = new ShardStore()
    const b = new ShardStore()
    put(a, handBatch(sample))
    put(b, builtBatch(sample))
    expect(rows(b.queryAll(query({})))).toEqual(rows(a.queryAll(query({}))))
  })

  it('merges several services in (ts, seq) order', () => {
    const got = rows(loaded().queryAll(query({})))
    expect(got.map((r) => r.message)).toEqual(['web late', 'api one', 'db one', 'api two', 'db two', 'api three', 'db three'])
    expect(got).toEqual(reference(sample, query({})))
  })

  it('returns descending order when asked', () => {
    const got = rows(loaded().queryAll(query({ descending: true })))
    expect(got.map((r) => r.seq)).toEqual([7, 5, 4, 3, 2, 1, 6])
  })

  it('treats start and end as inclusive bounds, in both orders', () => {
    const store = loaded()
    expect(rows(store.queryAll(query({ start: 15, end: 30 }))).map((r) => r.seq)).toEqual([2, 3, 4, 5])
    expect(rows(store.queryAll(query({ start: 15, end: 30, descending: true }))).map((r) => r.seq)).toEqual([5, 4, 3, 2])
    expect(rows(store.queryAll(query({ start: 20, end: 20 }))).map((r) => r.seq)).toEqual([3, 4])
    expect(rows(store.queryAll(query({ start: 16, end: 19 })))).toEqual([])
    expect(rows(store.queryAll(query({ start: 41, end: 100 })))).toEqual([])
    expect(rows(store.queryAll(query({ start: 0, end: 4, descending: true })))).toEqual([])
  })

  it('stops at the limit, from the right end', () => {
    const store = loaded()
    expect(rows(store.queryAll(query({ limit: 3 }))).map((r) => r.seq)).toEqual([6, 1, 2])
    expect(rows(store.queryAll(query({ limit: 3, descending: true }))).map((r) => r.seq)).toEqual([7, 5, 4])
    expect(rows(store.queryAll(query({ limit: 1, start: 20 }))).map((r) => r.seq)).toEqual([3])
  })

  it('filters by service and names each entry\'s service', () => {
    const store = loaded()
    const part = store.queryAll(query({ services: ['db', 'nope'] }))
    expect(rows(part).map((r) => r.seq)).toEqual([2, 4, 7])
    expect(rows(part).map((r) => r.service)).toEqual(['db', 'db', 'db'])
    expect(rows(store.queryAll(query({ services: ['nope'] })))).toEqual([])
    expect(rows(store.queryAll(query({ services: [] })))).toEqual([])
  })

  it('filters by a substring of the message', () => {
    const store = loaded()
    expect(rows(store.queryAll(query({ contains: 'two' }))).map((r) => r.seq)).toEqual([3, 4])
    expect(rows(store.queryAll(query({ contains: 'two', descending: true }))).map((r) => r.seq)).toEqual([4, 3])
    expect(rows(store.queryAll(query({ contains: 'Two' })))).toEqual([]) // case matters
    expect(rows(store.queryAll(query({ contains: 'zzz' })))).toEqual([])
    // The limit counts matches, not entries scanned.
    expect(rows(store.queryAll(query({ contains: 'db', limit: 2 }))).map((r) => r.seq)).toEqual([2, 4])
  })

  it('resumes strictly after the cursor (ts, seq), ascending', () => {
    const store = loaded()
    // After (20, 3): the other entry at 20 with a larger seq still comes.
    expect(rows(store.queryAll(query({ after: { ts: 20, seq: 3 } }))).map((r) => r.seq)).toEqual([4, 5, 7])
    expect(rows(store.queryAll(query({ after: { ts: 20, seq: 4 } }))).map((r) => r.seq)).toEqual([5, 7])
    // A cursor before start does not widen the range.
    expect(rows(store.queryAll(query({ start: 15, after: { ts: 5, seq: 6 } }))).map((r) => r.seq)).toEqual([2, 3, 4, 5, 7])
    // A cursor past end leaves nothing.
    expect(rows(store.queryAll(query({ end: 30, after: { ts: 35, seq: 0 } })))).toEqual([])
    // A cursor exactly at start still skips what it already covered.
    expect(rows(store.queryAll(query({ start: 20, after: { ts: 20, seq: 3 } }))).map((r) => r.seq)).toEqual([4, 5, 7])
  })

  it('resumes strictly after the cursor (ts, seq), descending', () => {
    const store = loaded()
    expect(rows(store.queryAll(query({ descending: true, after: { ts: 20, seq: 4 } }))).map((r) => r.seq)).toEqual([3, 2, 1, 6])
    expect(rows(store.queryAll(query({ descending: true, after: { ts: 20, seq: 3 } }))).map((r) => r.seq)).toEqual([2, 1, 6])
    // A cursor after end does not widen the range.
    expect(rows(store.queryAll(query({ descending: true, end: 30, after: { ts: 40, seq: 7 } }))).map((r) => r.seq)).toEqual([5, 4, 3, 2, 1, 6])
    // A cursor before start leaves nothing.
    expect(rows(store.queryAll(query({ descending: true, start: 10, after: { ts: 5, seq: 6 } })))).toEqual([])
    // A cursor exactly at end still skips what it already covered.
    expect(rows(store.queryAll(query({ descending: true, end: 20, after: { ts: 20, seq: 4 } }))).map((r) => r.seq)).toEqual([3, 2, 1, 6])
  })

  for (const descending of [false, true]) {
    it(`pages through everything exactly once with cursors (${descending ? 'desc' : 'asc'}), across block splits`, () => {
      const all = randomRows(11, 8 * BLOCK_ENTRIES, ['api', 'db', 'web', 'worker'])
      const store = new ShardStore()
      // Several batches, as the front thread sends them.
      for (let i = 0; i < all.length; i += 500) put(store, builtBatch(all.slice(i, i + 500)))
      store.sealIdle(Date.now() + 1e9, 0) // seal the open blocks too, so pages cross sealed and open blocks
      put(store, builtBatch([]))
      expect([...store.streams.values()].some((s) => s.slots.some((part) => part.chain.length + part.late.length > 1))).toBe(true)

      for (const base of [
        query({ descending, limit: 37 }),
        query({ descending, limit: 50, start: 1000, end: 5000, services: ['db', 'web'] }),
        query({ descending, limit: 7, contains: 'error' })
      ]) {
        const everything = reference(all, { ...base, limit: Infinity })
        expect(everything.length).toBeGreaterThan(base.limit * 3)
        const seen: Row[] = []
        let after: After | null = null
        for (let page = 0; page < 10_000; page++) {
          const got = rows(store.queryAll({ ...base, after }))
          // Each page is the next `limit` entries of the whole answer.
          expect(got).toEqual(everything.slice(seen.length, seen.length + base.limit))
          if (got.length === 0) break
          seen.push(...got)
          const last = got[got.length - 1]!
          after = { ts: last.ts, seq: last.seq }
        }
        expect(seen).toEqual(everything)
        expect(new Set(seen.map((r) => r.seq)).size).toBe(seen.length)
      }
    })
  }

  it('answers random queries like the reference', () => {
    const services = ['a', 'b', 'c', 'd', 'e']
    const all = randomRows(12, 4000, services)
    const store = new ShardStore()
    put(store, handBatch(all))
    const rnd = seeded(13)
    for (let k = 0; k < 300; k++) {
      const start = rnd.int(-10, 10_100)
      const q = query({
        services: rnd.int(0, 2) === 0 ? null : services.filter(() => rnd.int(0, 1) === 1),
        start,
        end: start + rnd.int(-10, 5000),
        descending: rnd.int(0, 1) === 1,
        limit: rnd.int(1, 300),
        contains: rnd.int(0, 2) === 0 ? rnd.pick(['alpha', 'error beta', '#1', 'nothing']) : null
      })
      if (rnd.int(0, 1) === 1) {
        const pivot = all[rnd.int(0, all.length - 1)]!
        q.after = { ts: pivot.ts, seq: pivot.seq }
      }
      expect(rows(store.queryAll(q)), JSON.stringify(q)).toEqual(reference(all, q))
    }
  })

  it('lists each service with its count, oldest and newest', () => {
    const stats = loaded().listServices(null, 1e9).services.sort((a, b) => a.service.localeCompare(b.service))
    expect(stats).toEqual([
      { service: 'api', count: 3, oldest: 10, newest: 30 },
      { service: 'db', count: 3, oldest: 15, newest: 40 },
      { service: 'web', count: 1, oldest: 5, newest: 5 }
    ])
    expect(new ShardStore().listServices(null, 1e9).services).toEqual([])
  })

  it('purges whole blocks older than the cutoff, hides what is left of them from queries, and forgets emptied services', () => {
    const store = loaded()
    // Cutoff 20: only web's block (its one entry at 5) is wholly older; api's and db's blocks reach past 20.
    expect(store.purge(20)).toBe(1)
    expect(store.entries).toBe(6)
    expect(rows(store.queryAll(query({}), 20)).map((r) => r.seq)).toEqual([3, 4, 5, 7])
    expect(store.listServices(null, 1e9).services.map((s) => s.service)).toEqual(['api', 'db'])
    expect(store.services.has('web')).toBe(false)

    expect(store.purge(20)).toBe(0)
    expect(store.purge(1000)).toBe(6)
    expect(store.entries).toBe(0)
    expect(store.bytes).toBe(0)
    expect(store.listServices(null, 1e9).services).toEqual([])
    expect(store.streams.size).toBe(0)
    // A purged-out service comes back on its next entry.
    put(store, handBatch([{ service: 'web', ts: 2000, seq: 8, message: 'back' }]))
    expect(store.listServices(null, 1e9).services).toEqual([{ service: 'web', count: 1, oldest: 2000, newest: 2000 }])
  })

  it('pages services in name order with a cursor', () => {
    const store = new ShardStore()
    const names = Array.from({ length: 57 }, (_, i) => `svc-${String(i).padStart(3, '0')}`)
    put(store, handBatch(names.map((service, i) => ({ service, ts: i, seq: i + 1, message: 'm' }))))
    const seen: string[] = []
    let after: string | null = null
    for (let k = 0; k < 100; k++) {
      const page = store.listServices(after, 10)
      seen.push(...page.services.map((s) => s.service))
      if (page.complete) break
      after = seen[seen.length - 1]!
    }
    expect(seen).toEqual(names)
  })

  it('opens blocks for an all-services query in proportion to what it returns, not to the services held', () => {
    const store = new ShardStore()
    const each: Row[] = Array.from({ length: 20_000 }, (_, i) => ({ service: `s${i}`, ts: 1000 + i, seq: i + 1, message: `m${i}` }))
    put(store, handBatch(each))
    store.sealIdle(Date.now() + 1e9, 0)
    const views = vi.spyOn(SealedBlock.prototype, 'view')
    try {
      for (const descending of [false, true]) {
        views.mockClear()
        const got = rows(store.queryAll(query({ limit: 10, descending })))
        expect(got).toEqual(reference(each, query({ limit: 10, descending })))
        expect(views.mock.calls.length).toBeLessThanOrEqual(11)
      }
    } finally {
      views.mockRestore()
    }
  })

  it('renders stream labels then entry attributes, a label named like an attribute once', () => {
    const store = new ShardStore()
    const b = new BatchBuilder()
    b.add({ service: 'api', ts: 1, message: 'm', labels: ['env', 'prod'], attributes: ['env', 'dev', 'pod', 'p-1'] }, 1)
    b.add({ service: 'api', ts: 2, message: 'n', labels: null, attributes: null }, 2)
    put(store, b.build())
    const part = store.queryAll(query({}))
    const body = Buffer.from(part.body).toString()
    const [first, second] = [body.slice(0, part.ends[0]), body.slice(part.ends[0]! + 1)]
    expect(JSON.parse(first).attributes).toEqual({ env: 'prod', pod: 'p-1' })
    expect(first).toBe(first.replace(/"env":"dev"/, 'x'))
    expect(JSON.parse(second)).toEqual({ service: 'api', timestamp: expect.any(String), message: 'n' })
  })

  it('refuses entries of new services past its limit, and keeps taking known ones', () => {
    const store = new ShardStore({ maxServices: 2 })
    const r = put(store, handBatch([
      { service: 'a', ts: 1, seq: 1, message: 'x' },
      { service: 'b', ts: 2, seq: 2, message: 'x' },
      { service: 'c', ts: 3, seq: 3, message: 'x' },
      { service: 'a', ts: 4, seq: 4, message: 'x' }
    ]))
    expect(r).toEqual({ count: 3, full: [2] })
    expect([...store.services.keys()]).toEqual(['a', 'b'])
  })

  it('counts the bytes it holds, less once blocks are sealed (compressed), and none once all is purged', () => {
    // Fewer entries per service than a block holds, so all stay in open blocks until sealed.
    const all = randomRows(15, 800, ['p', 'q'])
    const store = new ShardStore()
    put(store, builtBatch(all))
    const open = store.bytes
    const text = all.reduce((n, r) => n + r.message.length, 0)
    expect(open).toBeGreaterThan(text)
    store.sealIdle(Date.now() + 1e9, 0)
    expect(store.bytes).toBeLessThan(open / 2)
    expect(rows(store.queryAll(query({})))).toEqual(reference(all, query({})))
    store.purge(Infinity)
    expect(store.bytes).toBe(0)
    expect(store.entries).toBe(0)
  })

  it('seals a slot\'s open blocks soon after their stream moved on to a later slot, the others after the idle wait', () => {
    const store = new ShardStore()
    const slot = 5 * 60 * 1_000_000
    put(store, handBatch([
      { service: 'a', ts: 10, seq: 1, message: 'old slot' },
      { service: 'a', ts: slot + 10, seq: 2, message: 'new slot' },
      { service: 'b', ts: 20, seq: 3, message: 'only slot' }
    ]))
    const now = Date.now()
    // a's first slot is past: sealed after a second; a's newest slot and b's only one wait the whole 5 s.
    expect(store.sealIdle(now + 1500, 5000)).toBe(1)
    expect(store.sealIdle(now + 1500, 5000)).toBe(0)
    expect(store.sealIdle(now + 6000, 5000)).toBe(2)
    expect(rows(store.queryAll(query({}))).map((r) => r.message)).toEqual(['old slot', 'only slot', 'new slot'])
  })

  it('lets go of its blocks\' bytes in the block arena when it purges them', () => {
    const before = blockArena.liveBytes
    const store = new ShardStore()
    put(store, builtBatch(randomRows(21, 5000, ['p', 'q', 'r'])))
    store.sealIdle(Date.now() + 1e9, 0)
    expect(blockArena.liveBytes - before).toBeGreaterThan(10_000)
    store.purge(Infinity)
    expect(blockArena.liveBytes).toBe(before)
  })

  it('counts a metric query\'s entries like the reference, each once, also when it yields between slices', () => {
    const all = randomRows(23, 4000, ['a', 'b', 'c'])
    const store = new ShardStore()
    put(store, builtBatch(all.slice(0, 2500)))
    store.sealIdle(Date.now() + 1e9, 0) // sealed blocks, late blocks and open heads all take part
    put(store, builtBatch(all.slice(2500)))
    const stepUs = 700
    const first = 0
    const points = Math.ceil(10_000 / stepUs) + 1
    const metric = { op: 'count' as const, first, stepUs, points, rangeUs: stepUs, groupBy: { mode: 'by' as const, labels: ['service'] }, labelStages: [], maxSeries: 100, maxSamples: 1e6 }
    const q = query({ start: 1000, end: 8000, metric })
    const want = new Map<string, number[]>()
    for (const r of all) {
      if (r.ts < q.start || r.ts > q.end) continue
      const j = Math.ceil((r.ts - first) / stepUs)
      if (j < 0 || j >= points) continue
      const row = want.get(r.service) ?? new Array<number>(points).fill(0)
      row[j]!++
      want.set(r.service, row)
    }
    for (const sliceMs of [Infinity, 0]) {
      const run = store.query(q, -Infinity, sliceMs)
      let turns = 0
      while (!run.run()) {
        run.resume()
        turns++
      }
      if (sliceMs === 0) expect(turns).toBeGreaterThan(1)
      const got = new Map(run.part().series!.map((s) => [s.labels[1]!, [...s.values]]))
      expect(got).toEqual(want)
    }
  })

  describe('query budget', () => {
    const all = randomRows(16, 3000, ['a', 'b', 'c'])
    const store = new ShardStore()
    put(store, handBatch(all))
    const inRange = (q: ShardQuery): number => all.filter((r) => r.ts >= q.start && r.ts <= q.end && (q.services === null || q.services.includes(r.service))).length

    function budgetError (q: ShardQuery): QueryBudgetError {
      try {
        store.queryAll(q)
      } catch (err) {
        expect(err).toBeInstanceOf(QueryBudgetError)
        return err as QueryBudgetError
      }
      throw new Error('the query did not run out of budget')
    }

    it('examines each entry in range once, so maxScan equal to that count is enough', () => {
      for (const q of [
        query({ start: 1000, end: 3000 }),
        query({ start: 1000, end: 3000, descending: true }),
        query({ services: ['b'], contains: 'no such text' }),
        query({ services: ['a', 'c'], start: 5000, descending: true, contains: 'error' })
      ]) {
        const n = inRange(q)
        expect(n).toBeGreaterThan(100)
        expect(rows(store.queryAll({ ...q, maxScan: n }))).toEqual(reference(all, q))
        const err = budgetError({ ...q, maxScan: n - 1 })
        expect(err.code).toBe('LOGAGG_ERR_QUERY_TOO_EXPENSIVE')
        expect(err.message).toContain('QUERY_MAX_SCAN')
      }
    })

    it('stops early at the limit, without examining the rest of the range', () => {
      const q = query({ start: 0, end: Infinity, limit: 10 })
      expect(rows(store.queryAll({ ...q, maxScan: 100 }))).toEqual(reference(all, q))
    })

    it('gives up once the deadline has passed, checked every 256 entries', () => {
      // A deadline in 1970 has passed whatever the clock says.
      const err = budgetError(query({ deadline: 0 }))
      expect(err.code).toBe('LOGAGG_ERR_QUERY_TIMEOUT')
      expect(err.message).toContain('QUERY_TIMEOUT')
      // Fewer than 256 entries examined: the clock is never read.
      expect(rows(store.queryAll(query({ deadline: 0, limit: 200 })))).toHaveLength(200)
      expect(rows(store.queryAll(query({ deadline: Infinity })))).toHaveLength(all.length)
    })
  })

  it('purges a large store, sealed and open blocks alike, and then answers like the reference', () => {
    // Arriving nearly in time order, as logs do, so whole blocks fall before the cutoff.
    const all = randomRows(14, 5000, ['x', 'y', 'z']).sort(byTsSeq).map((r, i) => ({ ...r, seq: i + 1 }))
    const store = new ShardStore()
    put(store, builtBatch(all.slice(0, 2500)))
    store.sealIdle(Date.now() + 1e9, 0)
    put(store, builtBatch(all.slice(2500)))
    const cutoff = 9000
    const kept = all.filter((r) => r.ts >= cutoff)
    const dropped = store.purge(cutoff)
    expect(dropped).toBeGreaterThan(0)
    expect(store.entries).toBe(all.length - dropped)
    expect(store.entries).toBeGreaterThanOrEqual(kept.length)
    expect(rows(store.queryAll(query({}), cutoff))).toEqual(reference(kept, query({})))
  })
})

describe('NDJSON lines put into a ShardStore (putLines)', () => {
  const NOW = Date.parse('2026-11-27T12:00:00Z') * 1000
  const window = { oldest: NOW - 3600e6, newest: NOW + 600e6 }
  /** The lines inside a body with other text around them, as the front sends them. */
  const lineBatch = (lines: string[], index: number[], seq: number[]): LineBatch => {
    let text = '{"other":"line"}\n'
    const starts: number[] = []
    const ends: number[] = []
    for (const l of lines) {
      starts.push(text.length)
      text += l
      ends.push(text.length)
      text += '\n  \n'
    }
    return { text, starts: Uint32Array.from(starts), ends: Uint32Array.from(ends), index: Uint32Array.from(index), seq: Float64Array.from(seq), ...window }
  }

  it('parses, validates and stores lines, rejecting bad ones by their request index', () => {
    const store = new ShardStore()
    const lines = [
      JSON.stringify({ service: 'api', timestamp: '2026-11-27T11:59:00.000002Z', message: 'second' }),
      'not json',
      JSON.stringify({ service: 'api', timestamp: '2026-11-27T11:59:00.000001Z', message: 'first' }),
      JSON.stringify({ service: 'api', timestamp: '2020-01-01T00:00:00Z', message: 'too old' })
    ]
    const reply = store.ingest((sink) => putLines(lineBatch(lines, [3, 5, 8, 9], [10, 11, 12, 13]), () => true, sink))
    expect(reply.count).toBe(2)
    expect(reply.rejectedCount).toBe(2)
    expect(reply.rejected.map((r) => r.index)).toEqual([5, 9])
    expect(reply.rejected[0]!.error).toMatch(/^line is not valid JSON/)
    expect(reply.rejected[1]!.error).toMatch(/older than the retention window/)
    expect(reply.misrouted).toEqual([])
    expect(store.entries).toBe(2)
    expect(store.bytes).toBeGreaterThan('second'.length + 'first'.length)
    expect(rows(store.queryAll(query({}))).map((r) => [r.message, r.seq])).toEqual([['first', 12], ['second', 10]])
  })

  it('hands back lines whose service it does not own, storing none of them', () => {
    const store = new ShardStore()
    const lines = ['mine', 'theirs', 'mine'].map((service, i) => JSON.stringify({ service, timestamp: '2026-11-27T11:59:00Z', message: `m${i}` }))
    const reply = store.ingest((sink) => putLines(lineBatch(lines, [0, 1, 2], [1, 2, 3]), (service) => service === 'mine', sink))
    expect(reply.count).toBe(2)
    expect(reply.misrouted).toEqual([1])
    expect(store.listServices(null, 1e9).services.map((s) => s.service)).toEqual(['mine'])
  })
})

describe('a query restricted to hash partitions (cluster mode)', () => {
  it('returns only the services of the partitions asked for, alone and with a service list', async () => {
    const { shardOf } = await import('../../src/core/hash.js')
    const store = new ShardStore()
    const services = ['api', 'web', 'db', 'auth', 'queue', 'mail', 'search', 'pay']
    const all: Row[] = services.flatMap((service, i) => [0, 1, 2].map((k) => ({ service, ts: 1000 + i * 10 + k, seq: i * 10 + k, message: `${service}-${k}` })))
    put(store, handBatch(all))
    const partitions = 4
    for (let p = 0; p < partitions; p++) {
      const mine = all.filter((r) => shardOf(r.service, partitions) === p)
      const got = rows(store.queryAll(query({ partitions: { partitions, owned: [p] } })))
      expect(got.map((r) => r.message)).toEqual(mine.map((r) => r.message))
      const named = rows(store.queryAll(query({ services: ['api', 'web'], partitions: { partitions, owned: [p] } })))
      expect(named.map((r) => r.message)).toEqual(mine.filter((r) => r.service === 'api' || r.service === 'web').map((r) => r.message))
    }
    expect(rows(store.queryAll(query({ partitions: { partitions, owned: [0, 1, 2, 3] } }))).length).toBe(all.length)
  })
})
