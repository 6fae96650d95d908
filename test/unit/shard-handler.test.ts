import { describe, expect, it } from 'vitest'
import { UnknownMessageError, type ShardQuery, type ShardReply, type ShardRequest } from '../../src/store/shard-messages.js'
import { BatchBuilder } from '../../src/shards/batch-builder.js'
import { shardOf } from '../../src/core/hash.js'
import { createShardHandler } from '../../src/store/shard-handler.js'
import { ShardStore } from '../../src/store/shard-store.js'

const init = { shard: 1, owns: { partitions: 2, owned: [1] }, retention: 3_600_000 * 24 * 365 * 100, purgeInterval: 60_000, maxServices: 1000, dataDir: '', fsync: 'batch', checkpointMs: 60_000, hotWindowMs: 900_000, hotBytes: Infinity, tailShardBytes: Infinity, blockCodec: 'brotli-1', nice: 0 }
const T = Date.parse('2026-11-27T12:00:00Z') * 1000
const rec = (ts: number, message: string) => ({ service: 'api', ts, message, labels: null, attributes: null })
const q = (over: Partial<ShardQuery>): ShardQuery => ({ id: 1, services: null, start: T, end: T + 3000, descending: false, limit: 10, after: null, contains: null, attrs: [], maxBytes: Infinity, ...over })

describe('createShardHandler', () => {
  it('answers each request type and reports the store usage with every reply', async () => {
    const store = new ShardStore()
    const handle = createShardHandler(init, store)
    expect(handle({ type: 'hello' })).toMatchObject({ type: 'ready', shard: 1, usage: { entries: 0, bytes: 0, services: 0 } })

    const b = new BatchBuilder()
    b.add(rec(T, 'one'), 1)
    b.add(rec(T + 1, 'two'), 2)
    const stored = handle({ type: 'ingest', batch: b.build() })
    expect(stored).toMatchObject({ type: 'stored', count: 2, full: [], usage: { entries: 2, bytes: store.bytes, services: 1, streams: 1 } })
    expect(store.bytes).toBeGreaterThan(0)

    const stats = handle({ type: 'stats' }) as ShardReply
    expect(stats).toMatchObject({ type: 'stats', usage: { entries: 2, bytes: store.bytes } })
    expect(stats.usage.heapLimit).toBeGreaterThan(stats.usage.heapUsed)
    expect(handle({ type: 'services', after: null, limit: 10 })).toMatchObject({ type: 'services', complete: true, services: [{ service: 'api', count: 2, oldest: T, newest: T + 1 }] })
    const result = await handle({ type: 'query', query: q({ services: ['api'], end: T + 1, descending: true }) })
    expect(result.type).toBe('result')
    if (result.type === 'result') expect(Array.from(result.part.seq)).toEqual([2, 1])
  })

  it('answers a query over its budget with a coded error instead of throwing', async () => {
    const handle = createShardHandler(init)
    const b = new BatchBuilder()
    for (let i = 0; i < 3000; i++) b.add(rec(T + i, `m${i}`), i + 1)
    handle({ type: 'ingest', batch: b.build() })
    const base = q({ contains: 'nowhere' })
    expect(await handle({ type: 'query', query: { ...base, maxScan: 20 } })).toMatchObject({ type: 'error', code: 'LOGAGG_ERR_QUERY_TOO_EXPENSIVE', usage: { entries: 3000 } })
    // A deadline already past: the scan notices at its next check.
    expect(await handle({ type: 'query', query: { ...base, deadline: 0 } })).toMatchObject({ type: 'error', code: 'LOGAGG_ERR_QUERY_TIMEOUT' })
    // Within budget, the same query answers.
    expect((await handle({ type: 'query', query: { ...base, maxScan: 3000, deadline: Date.now() + 60_000 } })).type).toBe('result')
  })

  it('stops a query that is cancelled while it gives the thread back, and keeps storing meanwhile', async () => {
    const handle = createShardHandler(init)
    const b = new BatchBuilder()
    for (let i = 0; i < 200_000; i++) b.add(rec(T + i, `m${i}`), i + 1)
    handle({ type: 'ingest', batch: b.build() })
    // A scan of 200k entries for text that is nowhere runs for many slices.
    const running = handle({ type: 'query', query: q({ id: 7, end: T + 200_000, contains: 'nowhere' }) })
    await new Promise((resolve) => setImmediate(resolve))
    const more = new BatchBuilder()
    more.add(rec(T, 'meanwhile'), 300_000)
    expect(handle({ type: 'ingest', batch: more.build() })).toMatchObject({ type: 'stored', count: 1 })
    expect(handle({ type: 'cancel', id: 7 })).toMatchObject({ type: 'cancelled' })
    expect(await running).toMatchObject({ type: 'error', code: 'LOGAGG_ERR_QUERY_CANCELLED' })
  })

  it('stores NDJSON lines only for services this shard owns', () => {
    const store = new ShardStore()
    const handle = createShardHandler(init, store)
    const mine = ['a', 'b', 'c', 'd', 'e', 'f'].find((s) => shardOf(s, 2) === 1)!
    const theirs = ['a', 'b', 'c', 'd', 'e', 'f'].find((s) => shardOf(s, 2) === 0)!
    const lines = [mine, theirs].map((service) => JSON.stringify({ service, timestamp: '2026-11-27T12:00:00Z', message: 'm' }))
    const text = lines.join('\n')
    const reply = handle({
      type: 'ingest-lines',
      batch: { text, starts: Uint32Array.from([0, lines[0]!.length + 1]), ends: Uint32Array.from([lines[0]!.length, text.length]), index: Uint32Array.from([0, 1]), seq: Float64Array.from([1, 2]), oldest: 0, newest: Infinity }
    })
    expect(reply).toMatchObject({ type: 'stored-lines', count: 1, misrouted: [1], rejectedCount: 0 })
    expect(store.listServices(null, 10).services.map((s) => s.service)).toEqual([mine])
  })

  it('owns the services it is told to own, whatever its number', () => {
    // Shard 1 given partitions 0 and 2 of 3 (as a cluster might hand them out): not derived from its number.
    const store = new ShardStore()
    const handle = createShardHandler({ ...init, owns: { partitions: 3, owned: [0, 2] } }, store)
    const names = Array.from({ length: 30 }, (_, i) => `svc-${i}`)
    const mine = names.filter((s) => shardOf(s, 3) !== 1).slice(0, 4)
    const theirs = names.filter((s) => shardOf(s, 3) === 1).slice(0, 2)
    expect(mine.length).toBe(4)
    expect(theirs.length).toBe(2)
    const services = [...mine, ...theirs]
    const lines = services.map((service) => JSON.stringify({ service, timestamp: '2026-11-27T12:00:00Z', message: 'm' }))
    const text = lines.join('\n')
    const starts: number[] = []
    const ends: number[] = []
    let at = 0
    for (const line of lines) {
      starts.push(at)
      ends.push(at + line.length)
      at += line.length + 1
    }
    const reply = handle({
      type: 'ingest-lines',
      batch: { text, starts: Uint32Array.from(starts), ends: Uint32Array.from(ends), index: Uint32Array.from(services.keys()), seq: Float64Array.from(services, (_, i) => i + 1), oldest: 0, newest: Infinity }
    })
    expect(reply).toMatchObject({ type: 'stored-lines', count: 4, misrouted: [4, 5], rejectedCount: 0 })
    expect(store.listServices(null, 10).services.map((s) => s.service).sort()).toEqual([...mine].sort())
  })

  it('throws on a message type it does not know: a bug, not input', () => {
    const handle = createShardHandler(init)
    expect(() => handle({ type: 'nonsense' } as unknown as ShardRequest)).toThrow(UnknownMessageError)
  })
})
