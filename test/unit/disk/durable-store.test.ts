import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { putBatch } from '../../../src/ingest/shard-ingest.js'
import { BatchBuilder } from '../../../src/shards/batch-builder.js'
import { DurableStore } from '../../../src/store/disk/durable-store.js'
import { REAL_IO, type WalIo } from '../../../src/store/disk/wal.js'
import { createShardHandler } from '../../../src/store/shard-handler.js'
import { ShardStore } from '../../../src/store/shard-store.js'
import { StoreWriteError } from '../../../src/store/store.js'

const T = Date.parse('2026-11-27T12:00:00Z') * 1000
const init = { shard: 0, owns: { partitions: 1, owned: [0] }, retention: 3_600_000 * 24 * 365 * 100, purgeInterval: 60_000, maxServices: 1000, dataDir: '', fsync: 'batch', checkpointMs: 60_000, hotWindowMs: 900_000, hotBytes: Infinity, tailShardBytes: Infinity, blockCodec: 'brotli-1', nice: 0 }

const dirs: string[] = []
const stores: DurableStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** Real file calls, with fdatasync held until the test releases it, and write failures on demand. */
function heldIo (): WalIo & { release: (err?: NodeJS.ErrnoException) => void, failWrites: string | null } {
  let held: Array<(err: NodeJS.ErrnoException | null) => void> = []
  const io = {
    failWrites: null as string | null,
    writeSync: (fd: number, buf: Buffer, offset: number, length: number, position: number): number => {
      if (io.failWrites !== null) throw Object.assign(new Error('no space'), { code: io.failWrites })
      return REAL_IO.writeSync(fd, buf, offset, length, position)
    },
    fdatasync: (_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => { held.push(cb) },
    release: (err?: NodeJS.ErrnoException) => {
      const cbs = held
      held = []
      for (const cb of cbs) cb(err ?? null)
    }
  }
  return io
}

function open (io: WalIo): { memory: ShardStore, durable: DurableStore } {
  const dir = mkdtempSync(join(tmpdir(), 'logagg-durable-'))
  dirs.push(dir)
  const memory = new ShardStore()
  const durable = DurableStore.open({ dir, fsync: { kind: 'batch' }, checkpointMs: 60_000, segmentBytes: 64 << 20, hotWindowMs: Infinity, hotBytes: Infinity, io }, memory, -Infinity)
  stores.push(durable)
  return { memory, durable }
}

const batch = (messages: string[]): ReturnType<BatchBuilder['build']> => {
  const b = new BatchBuilder()
  messages.forEach((message, i) => b.add({ service: 'api', ts: T + i, message, labels: null, attributes: null }, i + 1))
  return b.build()
}

describe('DurableStore', () => {
  it('stages, logs, then applies: nothing is readable before its record is synced, then the answer is what the fill returned', async () => {
    const io = heldIo()
    const { memory, durable } = open(io)
    const stored = durable.ingest((sink) => putBatch(batch(['one', 'two']), sink))
    expect(stored).toBeInstanceOf(Promise)
    expect(durable.entries).toBe(0)
    expect(memory.entries).toBe(0)
    io.release()
    expect(await stored).toEqual({ count: 2, full: [] })
    expect(durable.entries).toBe(2)
    expect(durable.diskUsage).toMatchObject({ error: null })
    expect(durable.diskUsage!.bytes).toBeGreaterThan(0)
  })

  it('refuses a write the log could not make with a coded StoreWriteError and stores nothing', async () => {
    const io = heldIo()
    const { durable } = open(io)
    io.failWrites = 'ENOSPC'
    expect(() => durable.ingest((sink) => putBatch(batch(['lost']), sink))).toThrow(expect.objectContaining({ name: 'StoreWriteError', code: 'LOGAGG_ERR_DISK_FULL' }))
    io.failWrites = null
    const synced = durable.ingest((sink) => putBatch(batch(['unsynced']), sink))
    io.release(Object.assign(new Error('io'), { code: 'EIO' }))
    await expect(synced).rejects.toBeInstanceOf(StoreWriteError)
    await expect(synced).rejects.toMatchObject({ code: 'LOGAGG_ERR_DISK_FAILED' })
    expect(durable.entries).toBe(0)
  })

  it('is a LogStore the shard handler answers through: a refused write is its coded error reply', async () => {
    const io = heldIo()
    const { durable } = open(io)
    const handle = createShardHandler(init, durable)
    expect(handle({ type: 'hello' })).toMatchObject({ type: 'ready', recovery: { entries: 0, problems: [] }, usage: { disk: { error: null } } })
    io.failWrites = 'ENOSPC'
    expect(handle({ type: 'ingest', batch: batch(['lost']) })).toMatchObject({ type: 'error', code: 'LOGAGG_ERR_DISK_FULL', usage: { entries: 0 } })
    io.failWrites = null
    const reply = handle({ type: 'ingest', batch: batch(['kept']) })
    io.release()
    expect(await reply).toMatchObject({ type: 'stored', count: 1, usage: { entries: 1 } })
  })
})

describe('store layering', () => {
  it('the memory store imports nothing from store/disk (the durable store wraps it, not the other way)', () => {
    const root = fileURLToPath(new URL('../../../src/store/shard-store.ts', import.meta.url))
    const seen = new Set<string>()
    const todo = [root]
    while (todo.length > 0 && seen.size < 500) {
      const file = todo.pop()!
      if (seen.has(file)) continue
      seen.add(file)
      for (const m of readFileSync(file, 'utf8').matchAll(/^import [^'\n]*'(\.[^']+)\.js'/gm)) todo.push(resolve(dirname(file), `${m[1]!}.ts`))
    }
    expect(seen.size).toBeGreaterThan(5)
    expect([...seen].filter((f) => f.includes('/store/disk/'))).toEqual([])
  })
})
