import { describe, expect, it } from 'vitest'
import { UnknownMessageError, type ShardRequest } from '../../src/protocol.js'
import { BatchBuilder } from '../../src/shards/batch-builder.js'
import { shardOf } from '../../src/shards/hash.js'
import { createShardHandler } from '../../src/store/shard-handler.js'
import { ShardStore } from '../../src/store/shard-store.js'

const init = { shard: 1, shards: 2, retention: 3_600_000, purgeInterval: 60_000 }
const T = Date.parse('2026-11-27T12:00:00Z') * 1000

describe('createShardHandler', () => {
  it('answers each request type and reports the store usage with every reply', () => {
    const store = new ShardStore()
    const handle = createShardHandler(init, store)
    expect(handle({ type: 'hello' })).toEqual({ type: 'ready', shard: 1, usage: { entries: 0, bytes: 0 } })

    const b = new BatchBuilder()
    b.add('api', T, 1, 'one')
    b.add('api', T + 1, 2, 'two')
    const stored = handle({ type: 'ingest', batch: b.build() })
    expect(stored).toMatchObject({ type: 'stored', count: 2, usage: { entries: 2, bytes: store.bytes } })
    expect(store.bytes).toBeGreaterThan(0)

    expect(handle({ type: 'stats' })).toEqual({ type: 'stats', usage: { entries: 2, bytes: store.bytes } })
    expect(handle({ type: 'services' })).toMatchObject({ type: 'services', services: [{ service: 'api', count: 2, oldest: T, newest: T + 1 }] })
    const result = handle({ type: 'query', query: { services: ['api'], start: T, end: T + 1, descending: true, limit: 10, after: null, contains: null } })
    expect(result.type).toBe('result')
    if (result.type === 'result') expect(Array.from(result.part.seq)).toEqual([2, 1])
  })

  it('answers a query over its budget with a coded error instead of throwing', () => {
    const handle = createShardHandler(init)
    const b = new BatchBuilder()
    for (let i = 0; i < 3000; i++) b.add('api', T + i, i + 1, `m${i}`)
    handle({ type: 'ingest', batch: b.build() })
    const q = { services: null, start: T, end: T + 3000, descending: false, limit: 10, after: null, contains: 'nowhere' }
    expect(handle({ type: 'query', query: { ...q, maxScan: 20 } })).toMatchObject({ type: 'error', code: 'LOGAGG_ERR_QUERY_TOO_EXPENSIVE', usage: { entries: 3000 } })
    // A deadline already past: the scan notices at its next check (every 1024 entries).
    expect(handle({ type: 'query', query: { ...q, deadline: 0 } })).toMatchObject({ type: 'error', code: 'LOGAGG_ERR_QUERY_TIMEOUT' })
    // Within budget, the same query answers.
    expect(handle({ type: 'query', query: { ...q, maxScan: 3000, deadline: Date.now() + 60_000 } }).type).toBe('result')
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
    expect(store.services().map((s) => s.service)).toEqual([mine])
  })

  it('throws on a message type it does not know: a bug, not input', () => {
    const handle = createShardHandler(init)
    expect(() => handle({ type: 'nonsense' } as unknown as ShardRequest)).toThrow(UnknownMessageError)
  })
})
