import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { ShardUnavailableError } from '../errors.js'
import type { QueryPart, ServiceStats, ShardInit, ShardQuery, ShardReply, ShardRequest } from '../protocol.js'
import { BatchBuilder } from './batch-builder.js'

const WORKER_FILE = fileURLToPath(new URL('../../workers/shard.js', import.meta.url))

/**
 * The front thread's handle on one shard: a single-thread piscina pool.
 *
 * Ingest is coalesced: every entry enqueued during one turn of the event loop
 * goes out as one batch when setImmediate fires, and each caller's promise
 * settles when that batch is stored (ack-after-store, one message per shard
 * per turn rather than per request).
 */
export class ShardClient {
  private readonly pool: Piscina<ShardRequest, ShardReply>
  private pending: { builder: BatchBuilder, stored: Promise<void> } | null = null

  constructor (readonly init: ShardInit) {
    this.pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      // 'sync' would park the worker in Atomics.wait between tasks and starve its purge timer.
      atomics: 'disabled',
      workerData: init
    })
  }

  /** Queues one entry; the promise settles once the shard has stored it. */
  enqueue (service: string, ts: number, seq: number, message: string): Promise<void> {
    let pending = this.pending
    if (pending === null) {
      const builder = new BatchBuilder()
      const stored = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush(builder))
      pending = this.pending = { builder, stored }
    }
    pending.builder.add(service, ts, seq, message)
    return pending.stored
  }

  private async flush (builder: BatchBuilder): Promise<void> {
    if (this.pending?.builder === builder) this.pending = null
    const batch = builder.build()
    await this.call({ type: 'ingest', batch }, [batch.ts.buffer, batch.seq.buffer, batch.serviceIdx.buffer])
  }

  async query (query: ShardQuery): Promise<QueryPart> {
    const reply = await this.call({ type: 'query', query })
    if (reply.type !== 'result') throw new Error(`shard ${this.init.shard} answered a query with ${reply.type}`)
    return reply.part
  }

  async services (): Promise<ServiceStats[]> {
    const reply = await this.call({ type: 'services' })
    if (reply.type !== 'services') throw new Error(`shard ${this.init.shard} answered services with ${reply.type}`)
    return reply.services
  }

  async hello (): Promise<void> {
    await this.call({ type: 'hello' })
  }

  private async call (req: ShardRequest, transferList?: ArrayBuffer[]): Promise<ShardReply> {
    try {
      return await this.pool.run(req, transferList === undefined ? undefined : { transferList })
    } catch (err) {
      throw new ShardUnavailableError(`shard ${this.init.shard} could not complete the request (${(err as Error).message}); retry shortly`)
    }
  }

  /** The shard's worker thread, for tests that need to kill it. */
  get thread (): import('node:worker_threads').Worker | undefined {
    return this.pool.threads[0]
  }

  async close (): Promise<void> {
    if (this.pending !== null) await this.pending.stored.catch(() => {})
    await this.pool.close()
  }
}
