import { setPriority } from 'node:os'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { shardDir } from './disk/data-dir.js'
import { putBatch, putLines, putStreams, tenantSink, type EntrySink } from '../ingest/shard-ingest.js'
import { parseDuration } from '../core/durations.js'
import { UnknownMessageError, type ShardCounters, type ShardInit, type ShardQuery, type ShardReply, type ShardRequest, type Usage } from './shard-messages.js'
import { ownerTest } from '../core/hash.js'
import { nowUs } from '../core/timestamp.js'
import { CANCELLED, QueryBudgetError } from './budget.js'
import { codecByName } from './codec/registry.js'
import { BlockFileError } from './disk/block-file.js'
import { DurableStore } from './disk/durable-store.js'
import { parseFsync, type WalIo } from './disk/wal.js'
import { ShardStore } from './shard-store.js'
import { ownMemory, type PartMemory } from './query-run.js'
import { StoreWriteError, type LogStore } from './store.js'
import { RetentionPolicy, type RetentionSpec } from './retention.js'
import type { Stream } from './stream.js'
import { Deletions } from './deletions.js'

/** A query gives the thread back after this long, so ingest waiting behind it is stored meanwhile. */
const QUERY_SLICE_MS = 4
/** An open block that took no entry for this long is sealed (compressed). */
export const IDLE_SEAL_MS = 5_000
const MAINTAIN_MS = 1_000

/** A checkpoint also starts once the log holds this much (see shard-disk.ts). */
const SEGMENT_BYTES = 64 * 1024 * 1024

const giveBack = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** What a shard thread runs for each request: dispatch on `type`, reply with the store's usage. */
export function createShardHandler (
  init: ShardInit,
  store: LogStore = shardStore(init),
  counters: ShardCounters = newCounters(),
  /** Where a query that lets its part be lent makes it (the transport's shared memory). */
  lentMemory: PartMemory = ownMemory,
  /** Told LIMITS_FILE's retention when the front sends it (startShard's purge uses it). */
  setRetention: (spec: RetentionSpec | null) => void = () => {}
): (req: ShardRequest) => ShardReply | Promise<ShardReply> {
  const heapLimit = getHeapStatistics().heap_size_limit
  const usage = (): Usage => ({
    entries: store.entries,
    bytes: store.bytes,
    services: store.serviceCount,
    streams: store.streamCount,
    heapUsed: getHeapStatistics().used_heap_size,
    heapLimit,
    queries: live.size,
    disk: store.diskUsage,
    tailBytes: store.tail.held,
    tailPeakBytes: store.tail.peak
  })

  /**
   * Stores what `fill` puts and answers with `reply`: at once in memory only;
   * with a data folder once the store logged it. A write or sync the log
   * refused answers a coded error and stores nothing.
   */
  const ingest = <R>(fill: <S>(sink: EntrySink<S>) => R, reply: (result: R) => ShardReply, sizeHint?: number): ShardReply | Promise<ShardReply> => {
    const refused = (err: unknown): ShardReply => {
      if (!(err instanceof StoreWriteError)) throw err
      return { type: 'error', code: err.code, message: `shard ${init.shard}: ${err.message}`, usage: usage() }
    }
    let stored: R | Promise<R>
    try {
      stored = store.ingest(fill, sizeHint)
    } catch (err) {
      return refused(err)
    }
    return stored instanceof Promise ? stored.then(reply, refused) : reply(stored)
  }
  /** Which services are this shard's, as it was told (ShardInit.owns). */
  const owns = ownerTest(init.owns)
  /** Queries received and not finished; a cancel removes the id and the query stops at its next check. */
  const live = new Set<number>()

  const runQuery = async (q: ShardQuery): Promise<ShardReply> => {
    live.add(q.id)
    const taken = performance.now()
    let runMs = 0
    try {
      const query = store.query(q, nowUs() - init.retention * 1000, QUERY_SLICE_MS)
      for (;;) {
        if (!live.has(q.id)) throw new QueryBudgetError(CANCELLED, 'the client went away; the query was stopped')
        const from = performance.now()
        const finished = query.run()
        runMs += performance.now() - from
        if (finished) break
        await giveBack()
        query.resume()
      }
      const built = performance.now()
      const part = query.part(q.lend === true ? lentMemory : ownMemory)
      const done = performance.now()
      part.wallMs = done - taken
      part.runMs = runMs + done - built
      return { type: 'result', part, usage: usage() }
    } catch (err) {
      if (err instanceof BlockFileError) {
        return { type: 'error', code: 'LOGAGG_ERR_DISK_FAILED', message: `shard ${init.shard}: a block the query needs could not be read from DATA_DIR (${err.message})`, usage: usage() }
      }
      if (!(err instanceof QueryBudgetError)) throw err
      return { type: 'error', code: err.code, message: err.message, usage: usage() }
    } finally {
      live.delete(q.id)
    }
  }

  return function handle (req) {
    switch (req.type) {
      case 'ingest':
        return ingest((sink) => putBatch(req.batch, sink), (r) => ({ type: 'stored', ...r, usage: usage() }))
      case 'ingest-lines': {
        // The record holds about what the lines held: size its buffer from their text.
        const { text, starts } = req.batch
        const hint = (typeof text === 'string' ? text.length * 1.1 : text.byteLength) + 16 * starts.length
        return ingest((sink) => putLines(req.batch, owns, tenantSink(req.batch.tenant, sink)), (r) => ({ type: 'stored-lines', ...r, usage: usage() }), hint)
      }
      case 'ingest-streams':
        return ingest((sink) => putStreams(req.batch, owns, tenantSink(req.batch.tenant, sink)), (r) => ({ type: 'stored-streams', ...r, usage: usage() }), req.batch.bytes.byteLength * 1.1)
      case 'query':
        return runQuery(req.query)
      case 'cancel':
        live.delete(req.id)
        return { type: 'cancelled', usage: usage() }
      case 'services':
        return { type: 'services', ...store.listServices(req.after, req.limit, req.tenant), usage: usage() }
      case 'tail-subscribe':
        store.tail.subscribe(req.id, req.select, req.limits, req.format)
        return { type: 'tail', batches: [], unknown: [], usage: usage() }
      case 'tail-unsubscribe':
        store.tail.unsubscribe(req.id)
        return { type: 'tail', batches: [], unknown: [], usage: usage() }
      case 'tail-poll':
        return { type: 'tail', ...store.tail.poll(req.ids, req.stalled), usage: usage() }
      case 'streams':
        return { type: 'streams', ...store.listStreams(req.start, req.end, req.selector, req.limit, req.tenants), usage: usage() }
      case 'stats':
        return { type: 'stats', usage: usage(), counters: { ...counters, purgedByRule: { ...counters.purgedByRule } } }
      case 'retention':
        setRetention(req.spec)
        return { type: 'set', usage: usage() }
      case 'deletions':
        store.setDeletions(new Deletions(req.list))
        return { type: 'set', usage: usage() }
      case 'hello':
        return { type: 'ready', shard: init.shard, usage: usage(), recovery: store.recovery }
      default:
        throw new UnknownMessageError((req as { type: unknown }).type)
    }
  }
}

const newCounters = (): ShardCounters => ({ purgeRuns: 0, purgedEntries: 0, purgeSeconds: 0, idleSeals: 0, purgedByRule: {} })

/** Below this many bytes freed, a purge leaves garbage collection to V8's own schedule. */
const COLLECT_AFTER_BYTES = 16 * 1048576

/**
 * V8's full collector, where it can be had. An idle worker allocates nothing,
 * so V8 never collects what purges dropped and the memory stays taken. Once
 * purges have freed at least as much as the store still holds (and 16 MiB),
 * we ask for a collection: its cost grows with what is live, which is then
 * no more than what was freed, so it stays proportional to the purging.
 */
function findCollector (): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc') as () => void
  } catch {
    return null
  }
}

/** The store a shard starts with, its limits and block codec from `init`. */
function shardStore (init: ShardInit): ShardStore {
  const codec = codecByName(init.blockCodec)
  if (codec === undefined) throw new Error(`bad BLOCK_CODEC ${init.blockCodec}`)
  return new ShardStore({ maxServices: init.maxServices, tailBytes: init.tailShardBytes, codec })
}

/** The shard's data folder (DATA_DIR/shard-<i>) loaded into `memory`, which it then wraps. */
function durableStore (init: ShardInit, memory: ShardStore, io: WalIo | undefined): DurableStore {
  const fsync = parseFsync(init.fsync, parseDuration)
  if (fsync === null) throw new Error(`bad FSYNC ${init.fsync}`)
  const dir = shardDir(init.dataDir, init.shard)
  const options = { dir, fsync, checkpointMs: init.checkpointMs, segmentBytes: SEGMENT_BYTES, hotWindowMs: init.hotWindowMs, hotBytes: init.hotBytes, ...(io === undefined ? {} : { io }) }
  return DurableStore.open(options, memory, nowUs() - init.retention * 1000)
}

export interface ShardOptions {
  /** The log's system calls (tests make the disk fail through them). */
  io?: WalIo
  /** Memory the transport lends query parts in (the worker transport's, shared with the front). */
  lentMemory?: PartMemory
}

/**
 * Everything a shard thread runs: a store (loaded from its data folder first,
 * with DATA_DIR), its purge, sealing and checkpoint timers, and the request handler.
 */
/**
 * Lowers this thread's priority (on Linux, setpriority on the calling thread
 * changes that thread alone): under a CPU shortage the front thread, which
 * answers /healthz and refuses what it cannot take, runs first. Best effort:
 * a system that refuses leaves the thread as it was.
 */
function lowerPriority (nice: number): void {
  if (nice <= 0) return
  try {
    setPriority(0, nice)
  } catch {}
}

export function startShard (init: ShardInit, options: ShardOptions = {}): (req: ShardRequest) => ShardReply | Promise<ShardReply> {
  lowerPriority(init.nice)
  const memory = shardStore(init)
  const store: LogStore = init.dataDir === '' ? memory : durableStore(init, memory, options.io)
  if (init.deletions !== undefined) store.setDeletions(new Deletions(init.deletions))
  const collect = findCollector()
  const counters = newCounters()
  let freed = 0
  let policy = new RetentionPolicy(init.tenantRetention ?? null, init.retention)
  const byRule = (stream: Stream, rule: string, entries: number): void => {
    const key = `${stream.tenant}\u0000${rule}`
    counters.purgedByRule[key] = (counters.purgedByRule[key] ?? 0) + entries
  }
  /** One purge: RETENTION for every stream, or each stream's own period under LIMITS_FILE's rules. */
  const purge = (): void => {
    const now = nowUs()
    const started = performance.now()
    counters.purgedEntries += policy.plain ? store.purge(now - init.retention * 1000) : store.purgeStreams(now, policy, byRule)
    counters.purgeSeconds += (performance.now() - started) / 1000
    counters.purgeRuns++
  }
  // What a rule purged before a restart may still be in block files: the rules apply again before the shard is ready.
  if (!policy.plain) purge()
  setInterval(() => {
    const bytes = store.bytes
    purge()
    freed += bytes - store.bytes
    if (collect !== null && freed >= COLLECT_AFTER_BYTES && freed >= store.bytes) {
      freed = 0
      collect()
    }
  }, init.purgeInterval)
  setInterval(() => {
    counters.idleSeals += store.sealIdle(Date.now(), IDLE_SEAL_MS)
    store.maintain()
  }, MAINTAIN_MS)
  return createShardHandler(init, store, counters, options.lentMemory, (spec) => { policy = new RetentionPolicy(spec, init.retention) })
}
