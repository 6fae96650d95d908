import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { UnknownMessageError, type ShardInit, type ShardReply, type ShardRequest, type Usage } from '../protocol.js'
import { shardOf } from '../shards/hash.js'
import { nowUs } from '../timestamp.js'
import { QueryBudgetError, ShardStore } from './shard-store.js'

/** What a shard thread runs for each request: dispatch on `type`, reply with the store's usage. */
export function createShardHandler (init: ShardInit, store = new ShardStore()): (req: ShardRequest) => ShardReply {
  const usage = (): Usage => ({ entries: store.entries, bytes: store.bytes })
  const owns = (service: string): boolean => shardOf(service, init.shards) === init.shard
  return function handle (req) {
    switch (req.type) {
      case 'ingest':
        return { type: 'stored', count: store.ingest(req.batch), usage: usage() }
      case 'ingest-lines':
        return store.ingestLines(req.batch, owns)
      case 'query':
        try {
          return { type: 'result', part: store.query(req.query), usage: usage() }
        } catch (err) {
          if (!(err instanceof QueryBudgetError)) throw err
          return { type: 'error', code: err.code, message: err.message, usage: usage() }
        }
      case 'services':
        return { type: 'services', services: store.services(), usage: usage() }
      case 'stats':
        return { type: 'stats', usage: usage() }
      case 'hello':
        return { type: 'ready', shard: init.shard, usage: usage() }
      default:
        throw new UnknownMessageError((req as { type: unknown }).type)
    }
  }
}

/** Below this many estimated bytes freed, a purge leaves garbage collection to V8's own schedule. */
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

/** Everything a shard thread runs: a store, its purge timer, and the request handler. */
export function startShard (init: ShardInit): (req: ShardRequest) => ShardReply {
  const store = new ShardStore()
  const collect = findCollector()
  let freed = 0
  setInterval(() => {
    const bytes = store.bytes
    store.purge(nowUs() - init.retention * 1000)
    freed += bytes - store.bytes
    if (collect !== null && freed >= COLLECT_AFTER_BYTES && freed >= store.bytes) {
      freed = 0
      collect()
    }
  }, init.purgeInterval)
  return createShardHandler(init, store)
}
