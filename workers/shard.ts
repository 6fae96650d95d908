// Shard worker entry: one thread, one ShardStore, its own purge timer.
// piscina runs it with atomics disabled, so the timer fires between tasks.
// Query parts the front lets it lend are made in the memory it shares with
// the front (src/transport/worker/page-memory.ts).
import { workerData } from 'piscina'
import type { ShardInit } from '../src/store/shard-messages.js'
import { startShard } from '../src/store/shard-handler.js'
import { PageMemory } from '../src/transport/worker/page-memory.js'

const init = workerData as ShardInit

export default startShard(init, { lentMemory: init.pageMemory === undefined ? undefined : new PageMemory(init.pageMemory).partMemory() })
