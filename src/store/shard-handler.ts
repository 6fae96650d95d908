import { UnknownMessageError, type ShardInit, type ShardReply, type ShardRequest, type Usage } from '../protocol.js'
import { nowUs } from '../timestamp.js'
import { QueryBudgetError, ShardStore } from './shard-store.js'

/** What a shard thread runs for each request: dispatch on `type`, reply with the store's usage. */
export function createShardHandler (init: ShardInit, store = new ShardStore()): (req: ShardRequest) => ShardReply {
  const usage = (): Usage => ({ entries: store.entries, bytes: store.bytes })
  return function handle (req) {
    switch (req.type) {
      case 'ingest':
        return { type: 'stored', count: store.ingest(req.batch), usage: usage() }
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

/** Everything a shard thread runs: a store, its purge timer, and the request handler. */
export function startShard (init: ShardInit): (req: ShardRequest) => ShardReply {
  const store = new ShardStore()
  setInterval(() => {
    store.purge(nowUs() - init.retention * 1000)
  }, init.purgeInterval)
  return createShardHandler(init, store)
}
