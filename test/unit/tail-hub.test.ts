import { describe, expect, it } from 'vitest'
import type { LogSelection } from '../../src/logql/ast.js'
import { putBatch } from '../../src/ingest/shard-ingest.js'
import { BatchBuilder } from '../../src/shards/batch-builder.js'
import { ShardStore } from '../../src/store/shard-store.js'

// The shard side of live tails, driven through a ShardStore: one rendering per
// entry and format shared by every tail, bounds in bytes per tail and per shard,
// and stalled tails emptied into their dropped count.

const select = (service: string, contains?: string): LogSelection => ({
  selector: [{ name: 'service', op: '=', value: service }],
  lines: contains === undefined ? [] : [{ op: '|=', values: [contains] }],
  labels: []
})

const T0 = Date.now() * 1000
let seq = 1
function ingest (store: ShardStore, service: string, messages: string[]): void {
  const b = new BatchBuilder()
  for (const message of messages) b.add({ service, ts: T0 + seq, message, labels: null, attributes: null }, seq++)
  store.ingest((sink) => putBatch(b.build(), sink))
}

const lines = (n: number, size = 100): string[] => Array.from({ length: n }, (_, i) => `${i} ${'y'.repeat(size)}`)
const roomy = { entries: 1_000_000, bytes: 1 << 30 }

describe('TailHub', () => {
  it('renders an entry once per format however many tails keep it, and they get the same bytes', () => {
    const store = new ShardStore()
    for (let id = 1; id <= 50; id++) store.tail.subscribe(id, select('api'), roomy, 'sse')
    store.tail.subscribe(51, select('api'), roomy, 'ndjson')
    ingest(store, 'api', lines(10))
    expect(store.tail.renders).toBe(20)
    const { batches } = store.tail.poll(Array.from({ length: 51 }, (_, i) => i + 1))
    expect(batches).toHaveLength(51)
    expect(Buffer.from(batches[0]!.part.body).equals(Buffer.from(batches[49]!.part.body))).toBe(true)
    expect(batches[0]!.part.ends).toHaveLength(10)
    expect(store.tail.held).toBe(0)
  })

  it('drops past TAIL_BUFFER_BYTES for one tail, counted and named, without touching another', () => {
    const store = new ShardStore()
    store.tail.subscribe(1, select('api'), { entries: 1_000_000, bytes: 2048 }, 'ndjson')
    store.tail.subscribe(2, select('api', '1'), roomy, 'text')
    ingest(store, 'api', lines(100))
    const { batches } = store.tail.poll([1, 2])
    const one = batches.find((b) => b.id === 1)!
    expect(one.part.body.length).toBeLessThanOrEqual(2048 + one.part.ends.length)
    expect(one.part.ends.length + one.dropped).toBe(100)
    expect(one.droppedNamed[0]).toMatchObject({ labels: ['service', 'api'] })
    const two = batches.find((b) => b.id === 2)!
    expect(two.dropped).toBe(0)
    expect(two.part.ends.length).toBe(lines(100).filter((l) => l.includes('1')).length)
  })

  it('holds at most the shard bound for all tails together, and lets go of it when polled or unsubscribed', () => {
    const store = new ShardStore({ maxServices: Infinity, tailBytes: 10_000 })
    for (let id = 1; id <= 4; id++) store.tail.subscribe(id, select('api', String(id)), roomy, 'ndjson')
    ingest(store, 'api', lines(1000))
    expect(store.tail.held).toBeLessThanOrEqual(10_000)
    expect(store.tail.peak).toBeGreaterThan(9_000)
    const { batches } = store.tail.poll([1, 2])
    expect(batches.every((b) => b.dropped > 0)).toBe(true)
    store.tail.unsubscribe(3)
    store.tail.unsubscribe(4)
    expect(store.tail.held).toBe(0)
  })

  it('counts a stalled tail\'s entries as dropped instead of handing them over', () => {
    const store = new ShardStore()
    store.tail.subscribe(1, select('api'), roomy, 'sse')
    ingest(store, 'api', lines(7))
    const { batches } = store.tail.poll([1], [1])
    expect(batches).toHaveLength(1)
    expect(batches[0]!.part.ends).toHaveLength(0)
    expect(batches[0]!.dropped).toBe(7)
    expect(store.tail.held).toBe(0)
  })
})
