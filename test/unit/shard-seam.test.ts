import { deserialize, serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import type { LogRecord } from '../../src/ingest/record.js'
import { NO_USAGE, type QueryPart, type ShardQuery, type ShardReply, type ShardRequest, type Usage } from '../../src/store/shard-messages.js'
import { BatchBuilder } from '../../src/shards/batch-builder.js'
import { ownershipOf, shardOf } from '../../src/core/hash.js'
import { ShardRouter, type RouterLimits } from '../../src/shards/router.js'
import type { Shard, StoredLines } from '../../src/shards/shard.js'
import { createShardHandler } from '../../src/store/shard-handler.js'
import { expectReply } from '../../src/transport/reply.js'

// The router over a Shard that is not a worker thread: what a network
// transport will have to provide, and proof the router needs nothing else.

const EMPTY: QueryPart = { ts: new Float64Array(0), seq: new Float64Array(0), body: new Uint8Array(0), ends: new Uint32Array(0), complete: true, scanned: 0 }

class FakeShard implements Shard {
  readonly state = 'ready' as const
  readonly restarts = 0
  readonly recovery = null
  readonly timings = null
  get lentBytes (): number { return this.lent.size }
  usage: Usage = NO_USAGE
  readonly stored: Array<{ service: string, seq: number }> = []
  /** Settles the next ingest or query (tests decide when the shard answers). */
  readonly waiting: Array<{ resolve: () => void, reject: (err: Error) => void }> = []

  constructor (readonly id: number) {}

  whenReady (): Promise<void> { return Promise.resolve() }

  private answer (): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }))
  }

  async ingest (records: readonly LogRecord[], seqs: readonly number[]): Promise<number[]> {
    await this.answer()
    records.forEach((r, i) => this.stored.push({ service: r.service, seq: seqs[i]! }))
    return []
  }

  ingestLines (): Promise<StoredLines> { throw new Error('not used') }
  ingestStreams (): Promise<never> { throw new Error('not used') }

  /** Parts this shard lent (a query that let it) and has not had back. */
  readonly lent = new Set<QueryPart>()

  async query (q: ShardQuery): Promise<QueryPart[]> {
    await this.answer()
    if (q.lend !== true) return [EMPTY]
    const part = { ...EMPTY, lent: { at: 0, bytes: 1 } }
    this.lent.add(part)
    return [part]
  }

  release (part: QueryPart): void {
    if (!this.lent.delete(part)) throw new Error('given back twice, or never lent')
  }

  services (): Promise<never> { throw new Error('not used') }
  streams (): Promise<never> { throw new Error('not used') }
  tail (): Promise<never> { throw new Error('not used') }
  async stats (): Promise<null> { return null }
  async setRetention (): Promise<void> {}
  async setDeletions (): Promise<void> {}
  async close (): Promise<void> {}
}

const limits: RouterLimits = { queueLimit: 3, maxEntries: 1e9, maxMemory: 1e12, maxDisk: Infinity, queryConcurrency: 2, queryTimeout: 60_000, queryMaxScan: 1e9, maxPageBytes: 1e9, tailBuffer: 100, tailBufferBytes: 1e6, maxTails: 10 }
const rec = (service: string): LogRecord => ({ service, ts: 1, message: 'hello', labels: null, attributes: null })
const query = { services: null, start: 0, end: 10, descending: false, limit: 10, after: null, contains: null, attrs: [] }
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('ShardRouter over the Shard interface', () => {
  it('routes by hash, counts what each shard was handed until it answers, and refuses past QUEUE_LIMIT', async () => {
    const shards = [new FakeShard(0), new FakeShard(1)]
    const router = new ShardRouter(shards, limits)
    try {
      const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
      const on0 = names.filter((s) => shardOf(s, 2) === 0).slice(0, 2)
      const first = router.ingest(on0.map(rec), 'logs')
      expect(router.admission.load.map((l) => l.entries)).toEqual([2, 0])
      expect(router.admission.load[0]!.chars).toBe(10)
      // Two more for shard 0 would make 4 waiting, past QUEUE_LIMIT 3: refused whole, nothing counted.
      await expect(router.ingest(on0.map(rec), 'logs')).rejects.toMatchObject({ code: 'LOGAGG_ERR_QUEUE_FULL', statusCode: 429 })
      expect(router.admission.load[0]!.entries).toBe(2)
      shards[0]!.waiting.shift()!.resolve()
      expect(await first).toEqual({ full: [] })
      expect(router.admission.load.map((l) => l.entries)).toEqual([0, 0])
      expect(shards[0]!.stored.map((s) => s.service)).toEqual(on0)
      // A shard that fails an ingest gives its place in the queue back too.
      const failed = router.ingest(on0.map(rec), 'logs')
      shards[0]!.waiting.shift()!.reject(new Error('gone'))
      await expect(failed).rejects.toThrow('gone')
      expect(router.admission.load[0]!.entries).toBe(0)
    } finally {
      await router.close()
    }
  })

  it('answers 503 past QUERY_CONCURRENCY on a shard and frees the slot once the shard answers', async () => {
    const shards = [new FakeShard(0)]
    const router = new ShardRouter(shards, limits)
    try {
      const running = [router.query(query, '/logs'), router.query(query, '/logs')]
      expect(router.admission.load[0]!.queries).toBe(2)
      await expect(router.query(query, '/logs')).rejects.toMatchObject({ code: 'LOGAGG_ERR_TOO_MANY_QUERIES', statusCode: 503 })
      shards[0]!.waiting.shift()!.resolve()
      shards[0]!.waiting.shift()!.reject(new Error('shard failed'))
      expect(await running[0]).toEqual([EMPTY])
      await expect(running[1]).rejects.toThrow('shard failed')
      expect(router.admission.load[0]!.queries).toBe(0)
      await flush()
    } finally {
      await router.close()
    }
  })
})

describe('lent parts', () => {
  const lentQuery = { ...query, lend: true }

  it('are the caller\'s to give back when the query answers; giving back twice is harmless', async () => {
    const shards = [new FakeShard(0), new FakeShard(1)]
    const router = new ShardRouter(shards, limits)
    try {
      const running = router.query(lentQuery, '/logs')
      for (const s of shards) s.waiting.shift()!.resolve()
      const parts = await running
      expect(shards.map((s) => s.lent.size)).toEqual([1, 1])
      router.giveBack(parts)
      router.giveBack(parts)
      expect(shards.map((s) => s.lent.size)).toEqual([0, 0])
    } finally {
      await router.close()
    }
  })

  it('are given back by the router when the query fails, also those that arrive after it failed', async () => {
    const shards = [new FakeShard(0), new FakeShard(1)]
    const router = new ShardRouter(shards, limits)
    try {
      const running = router.query(lentQuery, '/logs')
      shards[0]!.waiting.shift()!.resolve()
      await flush()
      expect(shards[0]!.lent.size).toBe(1)
      shards[1]!.waiting.shift()!.reject(new Error('shard failed'))
      await expect(running).rejects.toThrow('shard failed')
      expect(shards[0]!.lent.size).toBe(0)
      // A slow shard answers after another shard's failure failed the query.
      const again = router.query(lentQuery, '/logs')
      shards[1]!.waiting.shift()!.reject(new Error('shard failed'))
      await expect(again).rejects.toThrow('shard failed')
      shards[0]!.waiting.shift()!.resolve()
      await flush()
      expect(shards[0]!.lent.size).toBe(0)
    } finally {
      await router.close()
    }
  })
})

describe('expectReply', () => {
  const usage = NO_USAGE
  it('returns the reply that matches the request', () => {
    const reply: ShardReply = { type: 'services', services: [], complete: true, usage }
    expect(expectReply(0, { type: 'services', after: null, limit: 1 }, reply)).toBe(reply)
  })

  it('rebuilds a refusal into its coded error, and treats an unknown code or a mismatched reply as a bug', () => {
    const req: ShardRequest = { type: 'stats' }
    expect(() => expectReply(2, req, { type: 'error', code: 'LOGAGG_ERR_DISK_FULL', message: 'full', usage })).toThrow(expect.objectContaining({ code: 'LOGAGG_ERR_DISK_FULL', statusCode: 507, message: 'full' }))
    expect(() => expectReply(2, req, { type: 'error', code: 'NOPE', message: 'what', usage })).toThrow('shard 2: NOPE: what')
    expect(() => expectReply(2, req, { type: 'cancelled', usage })).toThrow('shard 2 answered stats with cancelled')
  })
})

describe('shard messages', () => {
  it('are plain data: a copy made without transfer lists (as a network codec would) is handled and answered alike', async () => {
    const init = { shard: 0, owns: ownershipOf(0, 1), retention: 3_600_000 * 24 * 365 * 100, purgeInterval: 60_000, maxServices: 1000, dataDir: '', fsync: 'batch', checkpointMs: 60_000, hotWindowMs: 900_000, hotBytes: Infinity, tailShardBytes: Infinity, blockCodec: 'brotli-1', nice: 0 }
    const handle = createShardHandler(deserialize(serialize(init)) as typeof init)
    const over = async (req: ShardRequest): Promise<ShardReply> => deserialize(serialize(await handle(deserialize(serialize(req)) as ShardRequest))) as ShardReply
    const T = Date.parse('2026-11-27T12:00:00Z') * 1000
    const b = new BatchBuilder()
    b.add({ service: 'api', ts: T, message: 'one', labels: ['env', 'prod'], attributes: ['k', 'v'] }, 1)
    expect(await over({ type: 'ingest', batch: b.build() })).toMatchObject({ type: 'stored', count: 1, full: [] })
    const line = JSON.stringify({ service: 'api', timestamp: '2026-11-27T12:00:00.000001Z', message: 'two' })
    const text = new Uint8Array(Buffer.from(line))
    const lines = { text, starts: Uint32Array.from([0]), ends: Uint32Array.from([text.length]), index: Uint32Array.from([0]), seq: Float64Array.from([2]), oldest: 0, newest: Infinity }
    expect(await over({ type: 'ingest-lines', batch: lines })).toMatchObject({ type: 'stored-lines', count: 1, misrouted: [] })
    const reply = await over({ type: 'query', query: { id: 1, ...query, services: ['api'], start: T, end: T + 10, maxBytes: Infinity } })
    expect(reply.type).toBe('result')
    if (reply.type === 'result') expect(Array.from(reply.part.seq)).toEqual([1, 2])
    expect(await over({ type: 'stats' })).toMatchObject({ type: 'stats', usage: { entries: 2, heapLimit: expect.any(Number) } })
  })
})
