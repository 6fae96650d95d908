import type { LogRecord } from '../../ingest/record.js'
import type { LabelMatcher } from '../../logql/ast.js'
import type { RetentionSpec } from '../../store/retention.js'
import type { Deletion } from '../../store/deletions.js'
import { NO_USAGE, type IngestBatch, type LineBatch, type StreamBatch, type QueryPart, type Recovery, type ServiceStats, type ShardCounters, type ShardQuery, type ShardReply, type ShardRequest, type StreamStats, type TailBatch, type Usage } from '../../store/shard-messages.js'
import type { Shard, ShardEvents, ShardState, ShardTimings, StoredLines, StoredStreams, TailRequest } from '../../shards/shard.js'
import { IngestCoalescer } from '../ingest-coalescer.js'
import { expectReply, type ReplyFor } from '../reply.js'
import { PageMemory } from './page-memory.js'

/**
 * What carries one shard's requests to its thread and its replies back: the
 * supervised piscina worker for the thread that owns the shards
 * (supervisor.ts), a MessagePort to the same worker for every other front
 * thread (port-link.ts). Every reply is shown to `onReply` of whoever made
 * the link (the shard's usage rides on each).
 */
export interface ShardLink {
  readonly state: ShardState
  readonly restarts: number
  readonly recovery: Recovery | null
  readonly timings: ShardTimings | null
  whenReady (): Promise<void>
  /** Sends a request to the ready worker; a 503 (ShardUnavailableError) while it is not, or if it fails meanwhile. */
  run (req: ShardRequest, transferList?: ArrayBuffer[]): Promise<ShardReply>
  close (): Promise<void>
}

/**
 * The buffers a message's typed arrays may be moved in rather than copied:
 * the thread transports' optimisation only. Every message is plain data that
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
    case 'ingest-streams': {
      const { batch } = req
      return [batch.bytes.buffer, batch.starts.buffer, batch.ends.buffer, batch.first.buffer, batch.ordinals.buffer]
    }
    default:
      return undefined
  }
}

/**
 * A shard in a worker thread of this process, whatever link reaches it:
 * ingest coalesced per event-loop turn, query parts lent in the memory the
 * worker shares with every front thread (page-memory.ts).
 */
export class LinkedShard<L extends ShardLink = ShardLink> implements Shard {
  usage: Usage = NO_USAGE
  protected readonly link: L
  private readonly coalescer = new IngestCoalescer(async (batch: IngestBatch) => (await this.request({ type: 'ingest', batch })).full)

  constructor (
    readonly id: number,
    /** Makes the link; it shows this shard every reply (sawReply) and each restart (forgetUsage). */
    link: (shard: LinkedShard<L>) => L,
    /** Kept across restarts: a part a dead worker lent is still given back here. */
    readonly pages: PageMemory,
    private readonly events: Pick<ShardEvents, 'onDiskError'> = {}
  ) {
    this.link = link(this)
  }

  get state (): ShardState { return this.link.state }
  get restarts (): number { return this.link.restarts }
  get recovery (): Recovery | null { return this.link.recovery }
  get timings (): ShardTimings | null { return this.link.timings }
  get lentBytes (): number { return this.pages.lentBytes }

  whenReady (): Promise<void> {
    return this.link.whenReady()
  }

  /** Every reply carries what the shard holds; a change in its disk failure is reported. The link calls it. */
  sawReply (reply: ShardReply): void {
    const error = reply.usage.disk?.error ?? null
    if (error !== (this.usage.disk?.error ?? null)) this.events.onDiskError?.(this.id, error)
    this.usage = reply.usage
  }

  /** The worker restarted: what the old one held is gone from view until the new one says. */
  forgetUsage (): void {
    this.usage = NO_USAGE
  }

  private async request<R extends ShardRequest> (req: R): Promise<ReplyFor<R>> {
    return expectReply(this.id, req, await this.link.run(req, transferOf(req)))
  }

  ingest (records: readonly LogRecord[], seqs: readonly number[]): Promise<number[]> {
    return this.coalescer.add(records, seqs)
  }

  async ingestLines (batch: LineBatch): Promise<StoredLines> {
    // Entries queued before these lines go out first: a shard must receive entries in seq order.
    this.coalescer.flush()
    return await this.request({ type: 'ingest-lines', batch })
  }

  async ingestStreams (batch: StreamBatch): Promise<StoredStreams> {
    this.coalescer.flush()
    return await this.request({ type: 'ingest-streams', batch })
  }

  async query (query: ShardQuery, signal?: AbortSignal): Promise<QueryPart[]> {
    const cancel = (): void => { this.request({ type: 'cancel', id: query.id }).catch(() => {}) }
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      return [(await this.request({ type: 'query', query })).part]
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  release (part: QueryPart): void {
    if (part.lent === undefined) return
    this.pages.giveBack(part.lent)
    part.lent = undefined
  }

  async services (after: string | null, limit: number, tenant?: string): Promise<{ services: ServiceStats[], complete: boolean }> {
    return await this.request(tenant === undefined ? { type: 'services', after, limit } : { type: 'services', after, limit, tenant })
  }

  async streams (start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants?: string[]): Promise<{ streams: StreamStats[], complete: boolean }> {
    return await this.request(tenants === undefined ? { type: 'streams', start, end, selector, limit } : { type: 'streams', start, end, selector, limit, tenants })
  }

  async setRetention (spec: RetentionSpec | null): Promise<void> {
    await this.request({ type: 'retention', spec })
  }

  async setDeletions (list: Deletion[]): Promise<void> {
    await this.request({ type: 'deletions', list })
  }

  async tail (req: TailRequest): Promise<{ batches: TailBatch[], unknown: number[] }> {
    return await this.request(req)
  }

  async stats (): Promise<{ usage: Usage, counters: ShardCounters } | null> {
    if (this.state !== 'ready') return null
    return await this.request({ type: 'stats' }).catch(() => null)
  }

  async close (): Promise<void> {
    await this.coalescer.drain()
    await this.link.close()
  }
}
