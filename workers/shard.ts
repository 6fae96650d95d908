// Shard worker entry: one thread, one ShardStore, its own purge timer.
// piscina runs it with atomics disabled, so the timer fires between tasks.
import { workerData } from 'piscina'
import { UnknownMessageError, type ShardInit, type ShardReply, type ShardRequest } from '../src/protocol.js'
import { ShardStore } from '../src/store/shard-store.js'
import { nowUs } from '../src/timestamp.js'

const init = workerData as ShardInit
const store = new ShardStore()

setInterval(() => {
  store.purge(nowUs() - init.retention * 1000)
}, init.purgeInterval)

export default function handle (req: ShardRequest): ShardReply {
  switch (req.type) {
    case 'ingest':
      return { type: 'stored', count: store.ingest(req.batch) }
    case 'query':
      return { type: 'result', part: store.query(req.query) }
    case 'services':
      return { type: 'services', services: store.services() }
    case 'hello':
      return { type: 'ready', shard: init.shard }
    default:
      throw new UnknownMessageError((req as { type: unknown }).type)
  }
}
