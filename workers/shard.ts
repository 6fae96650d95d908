// Shard worker entry: one thread, one ShardStore, its own purge timer.
// piscina runs it with atomics disabled, so the timer fires between tasks.
// Query parts the front lets it lend are made in the memory it shares with
// the front threads (src/transport/worker/page-memory.ts). Front threads
// other than the supervising one send requests on ports of their own, handed
// over as an `attach` task (src/transport/worker/port-link.ts).
import type { MessagePort } from 'node:worker_threads'
import { workerData } from 'piscina'
import type { ShardInit, ShardRequest } from '../src/store/shard-messages.js'
import { startShard } from '../src/store/shard-handler.js'
import { PageMemory } from '../src/transport/worker/page-memory.js'
import { servePort } from '../src/transport/worker/port-link.js'

const init = workerData as ShardInit
const handle = startShard(init, { lentMemory: init.pageMemory === undefined ? undefined : new PageMemory(init.pageMemory).partMemory() })

export default function (req: ShardRequest | { type: 'attach', port: MessagePort }): ReturnType<typeof handle> | { type: 'attached' } {
  if (req.type === 'attach') {
    servePort(req.port, handle)
    return { type: 'attached' }
  }
  return handle(req)
}
