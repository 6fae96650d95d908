// Shard worker entry: one thread, one ShardStore, its own purge timer.
// piscina runs it with atomics disabled, so the timer fires between tasks.
import { workerData } from 'piscina'
import type { ShardInit } from '../src/store/shard-messages.js'
import { startShard } from '../src/store/shard-handler.js'

export default startShard(workerData as ShardInit)
