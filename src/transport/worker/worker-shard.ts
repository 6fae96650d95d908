import type { MessagePort } from 'node:worker_threads'
import type { ShardInit } from '../../store/shard-messages.js'
import { LinkedShard } from './linked-shard.js'
import { PageMemory } from './page-memory.js'
import { Supervisor, type SupervisorOptions } from './supervisor.js'

export type WorkerShardOptions = SupervisorOptions

/**
 * Memory each worker shard shares with the front threads for query parts
 * (about 50 pages of 1000 entries at once); touched only as far as it is
 * used. A part larger than what is free is made in memory of its own.
 */
const PAGE_MEMORY_BYTES = 8 * 1024 * 1024

/**
 * A shard in a worker thread of this process, started and supervised by
 * this thread (supervisor.ts); other front threads reach the same worker
 * through ports it hands out (attach).
 */
export class WorkerShard extends LinkedShard<Supervisor> {
  constructor (init: ShardInit, options: WorkerShardOptions = {}) {
    const pages = new PageMemory(PageMemory.create(PAGE_MEMORY_BYTES))
    super(init.shard, (shard) => new Supervisor({ ...init, pageMemory: pages.buffer }, options, (reply) => shard.sawReply(reply), () => shard.forgetUsage()), pages, options)
  }

  /** Hands the current worker one end of a channel, on which it answers requests as it does this thread's (another front thread holds the other end). */
  attach (port: MessagePort): Promise<void> {
    return this.link.attach(port)
  }

  /** The worker thread, for tests that need to kill it. */
  get thread (): Supervisor['thread'] {
    return this.link.thread
  }

  /** Sends a message outside the protocol, for test fixtures only. */
  sendRaw (message: object): Promise<unknown> {
    return this.link.sendRaw(message)
  }
}
