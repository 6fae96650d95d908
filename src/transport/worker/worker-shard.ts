import type { LogRecord } from '../../ingest/record.js'
import type { LabelMatcher } from '../../logql/ast.js'
import { NO_USAGE, type IngestBatch, type LineBatch, type QueryPart, type ServiceStats, type ShardCounters, type ShardInit, type ShardQuery, type ShardReply, type ShardRequest, type StreamStats, type TailBatch, type Usage } from '../../store/shard-messages.js'
import type { Shard, ShardState, ShardTimings, StoredLines, TailRequest } from '../../shards/shard.js'
import { IngestCoalescer } from '../ingest-coalescer.js'
import { expectReply, type ReplyFor } from '../reply.js'
import { PageMemory } from './page-memory.js'
import { Supervisor, type SupervisorOptions } from './supervisor.js'

export type WorkerShardOptions = SupervisorOptions

/**
 * The buffers a message's typed arrays may be moved in rather than copied:
 * the worker transport's optimisation only. Every message is plain data that
 * a structured clone (or a network codec) carries just as well.
 */
function transferOf (req: ShardRequest): ArrayBuffer[] | undefined {
  switch (req.type) {
    case 'ingest':
      // The number columns share one buffer (BatchBuilder.build).
      return [req.batch.ts.buffer]
    case 'ingest-lines': {
      const { batch } = req
      const list = [batch.starts.buffer, batch.ends.buffer, batch.index.buffer, batch.seq.buffer]
      if (typeof batch.text !== 'string') list.push(batch.text.buffer)
      return list
    }
    default:
      return undefined
  }
}

/**
 * Memory each worker shard shares with the front for query parts (about 50
 * pages of 1000 entries at once); touched only as far as it is used. A part
 * larger than what is free is made in memory of its own.
 */
const PAGE_MEMORY_BYTES = 8 * 1024 * 1024

/**
 * A shard in a worker thread of this process: supervision (supervisor.ts),
 * ingest coalesced per event-loop turn, query parts lent in shared memory.
 */
export class WorkerShard implements Shard {
  readonly id: number
  usage: Usage = NO_USAGE
  /** Kept across restarts: a part a dead worker lent is still given back here. */
  readonly pages = new PageMemory(PageMemory.create(PAGE_MEMORY_BYTES))
  private readonly supervisor: Supervisor
  private readonly coalescer = new IngestCoalescer(async (batch: IngestBatch) => (await this.request({ type: 'ingest', batch })).full)

  constructor (init: ShardInit, private readonly options: WorkerShardOptions = {}) {
    this.id = init.shard
    this.supervisor = new Supervisor({ ...init, pageMemory: this.pages.buffer }, options, (reply) => this.sawReply(reply), () => { this.usage = NO_USAGE })
  }

  get state (): ShardState { return this.supervisor.state }
  get restarts (): number { return this.supervisor.restarts }
  get recovery (): Supervisor['recovery'] { return this.supervisor.recovery }
  get timings (): ShardTimings | null { return this.supervisor.timings }
  get lentBytes (): number { return this.pages.lentBytes }

  whenReady (): Promise<void> {
    return this.supervisor.whenReady()
  }

  /** Every reply carries what the shard holds; a change in its disk failure is reported. */
  private sawReply (reply: ShardReply): void {
    const error = reply.usage.disk?.error ?? null
    if (error !== (this.usage.disk?.error ?? null)) this.options.onDiskError?.(this.id, error)
    this.usage = reply.usage
  }

  private async request<R extends ShardRequest> (req: R): Promise<ReplyFor<R>> {
    return expectReply(this.id, req, await this.supervisor.run(req, transferOf(req)))
  }

  ingest (records: readonly LogRecord[], seqs: readonly number[]): Promise<number[]> {
    return this.coalescer.add(records, seqs)
  }

  async ingestLines (batch: LineBatch): Promise<StoredLines> {
    // Entries queued before these lines go out first: a shard must receive entries in seq order.
    this.coalescer.flush()
    return await this.request({ type: 'ingest-lines', batch })
  }

  async query (query: ShardQuery, signal?: AbortSignal): Promise<QueryPart> {
    const cancel = (): void => { this.request({ type: 'cancel', id: query.id }).catch(() => {}) }
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      return (await this.request({ type: 'query', query })).part
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  release (part: QueryPart): void {
    if (part.lent === undefined) return
    this.pages.giveBack(part.lent)
    part.lent = undefined
  }

  async services (after: string | null, limit: number): Promise<{ services: ServiceStats[], complete: boolean }> {
    return await this.request({ type: 'services', after, limit })
  }

  async streams (start: number, end: number, selector: LabelMatcher[] | null, limit: number): Promise<{ streams: StreamStats[], complete: boolean }> {
    return await this.request({ type: 'streams', start, end, selector, limit })
  }

  async tail (req: TailRequest): Promise<{ batches: TailBatch[], unknown: number[] }> {
    return await this.request(req)
  }

  async stats (): Promise<{ usage: Usage, counters: ShardCounters } | null> {
    if (this.state !== 'ready') return null
    return await this.request({ type: 'stats' }).catch(() => null)
  }

  /** The worker thread, for tests that need to kill it. */
  get thread (): Supervisor['thread'] {
    return this.supervisor.thread
  }

  /** Sends a message outside the protocol, for test fixtures only. */
  sendRaw (message: object): Promise<unknown> {
    return this.supervisor.sendRaw(message)
  }

  async close (): Promise<void> {
    await this.coalescer.drain()
    await this.supervisor.close()
  }
}
