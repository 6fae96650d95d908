import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { UnknownMessageError, type ShardCounters, type ShardInit, type ShardQuery, type ShardReply, type ShardRequest, type Usage } from '../protocol.js'
import { shardOf } from '../shards/hash.js'
import { nowUs } from '../timestamp.js'
import { CANCELLED, QueryBudgetError } from './budget.js'
import { ShardStore } from './shard-store.js'
import type { LogStore } from './store.js'

/** A query gives the thread back after this long, so ingest waiting behind it is stored meanwhile. */
const QUERY_SLICE_MS = 4
/** An open block that took no entry for this long is sealed (compressed). */
export const IDLE_SEAL_MS = 5_000
const MAINTAIN_MS = 1_000

const giveBack = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** What a shard thread runs for each request: dispatch on `type`, reply with the store's usage. */
export function createShardHandler (
  init: ShardInit,
  store: LogStore = new ShardStore({ maxServices: init.maxServices }),
  counters: ShardCounters = newCounters()
): (req: ShardRequest) => ShardReply | Promise<ShardReply> {
  const heapLimit = getHeapStatistics().heap_size_limit
  const usage = (): Usage => ({
    entries: store.entries,
    bytes: store.bytes,
    services: store.serviceCount,
    streams: store.streamCount,
    heapUsed: getHeapStatistics().used_heap_size,
    heapLimit,
    queries: live.size
  })
  const owns = (service: string): boolean => shardOf(service, init.shards) === init.shard
  /** Queries received and not finished; a cancel removes the id and the query stops at its next check. */
  const live = new Set<number>()

  const runQuery = async (q: ShardQuery): Promise<ShardReply> => {
    live.add(q.id)
    try {
      const query = store.query(q, nowUs() - init.retention * 1000, QUERY_SLICE_MS)
      for (;;) {
        if (!live.has(q.id)) throw new QueryBudgetError(CANCELLED, 'the client went away; the query was stopped')
        if (query.run()) break
        await giveBack()
        query.resume()
      }
      return { type: 'result', part: query.part(), usage: usage() }
    } catch (err) {
      if (!(err instanceof QueryBudgetError)) throw err
      return { type: 'error', code: err.code, message: err.message, usage: usage() }
    } finally {
      live.delete(q.id)
    }
  }

  return function handle (req) {
    switch (req.type) {
      case 'ingest': {
        const { count, full } = store.ingest(req.batch)
        return { type: 'stored', count, full, usage: usage() }
      }
      case 'ingest-lines':
        return { type: 'stored-lines', ...store.ingestLines(req.batch, owns), usage: usage() }
      case 'query':
        return runQuery(req.query)
      case 'cancel':
        live.delete(req.id)
        return { type: 'cancelled', usage: usage() }
      case 'services':
        return { type: 'services', ...store.listServices(req.after, req.limit), usage: usage() }
      case 'tail-subscribe':
        store.tail.subscribe(req.id, req.select, req.limit, req.format)
        return { type: 'tail', batches: [], unknown: [], usage: usage() }
      case 'tail-unsubscribe':
        store.tail.unsubscribe(req.id)
        return { type: 'tail', batches: [], unknown: [], usage: usage() }
      case 'tail-poll':
        return { type: 'tail', ...store.tail.poll(req.ids), usage: usage() }
      case 'streams':
        return { type: 'streams', ...store.listStreams(req.start, req.end, req.selector, req.limit), usage: usage() }
      case 'stats':
        return { type: 'stats', usage: usage(), counters: { ...counters } }
      case 'hello':
        return { type: 'ready', shard: init.shard, usage: usage() }
      default:
        throw new UnknownMessageError((req as { type: unknown }).type)
    }
  }
}

const newCounters = (): ShardCounters => ({ purgeRuns: 0, purgedEntries: 0, purgeSeconds: 0, idleSeals: 0 })

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

/** Everything a shard thread runs: a store, its purge and sealing timers, and the request handler. */
export function startShard (init: ShardInit): (req: ShardRequest) => ShardReply | Promise<ShardReply> {
  const store = new ShardStore({ maxServices: init.maxServices })
  const collect = findCollector()
  const counters = newCounters()
  let freed = 0
  setInterval(() => {
    const bytes = store.bytes
    const started = performance.now()
    counters.purgedEntries += store.purge(nowUs() - init.retention * 1000)
    counters.purgeSeconds += (performance.now() - started) / 1000
    counters.purgeRuns++
    freed += bytes - store.bytes
    if (collect !== null && freed >= COLLECT_AFTER_BYTES && freed >= store.bytes) {
      freed = 0
      collect()
    }
  }, init.purgeInterval)
  setInterval(() => { counters.idleSeals += store.sealIdle(Date.now(), IDLE_SEAL_MS) }, MAINTAIN_MS)
  return createShardHandler(init, store, counters)
}
