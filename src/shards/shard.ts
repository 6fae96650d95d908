import type { LogRecord } from '../ingest/record.js'
import type { LabelMatcher } from '../logql/ast.js'
import type { RetentionSpec } from '../store/retention.js'
import type { Deletion } from '../store/deletions.js'
import type { LineBatch, StreamBatch, QueryPart, Recovery, ServiceStats, ShardCounters, ShardQuery, ShardReply, ShardRequest, StreamStats, TailBatch, Usage } from '../store/shard-messages.js'

// The front thread's view of one shard, whatever carries its messages. The
// router, the live tails and /metrics talk to this and nothing else; today's
// implementation is src/transport/worker/ (a supervised piscina thread), the
// next one a network transport. Every message is plain data (src/store/shard-messages.ts).
//
//   router ─┬─ admission (queue, QUERY_CONCURRENCY, store limits)   src/shards/admission.ts
//           └─ Shard[] ──► transport ──► shard handler + store         src/store/shard-handler.ts
//
// Admission is counted by the router, not here: what was handed to a shard and
// not answered is the same whatever carries it, and one place decides 429/503.

export type ShardState = 'starting' | 'ready' | 'down' | 'closed'

/** What a shard answered to lines it was sent (ingestLines). */
export type StoredLines = Omit<Extract<ShardReply, { type: 'stored-lines' }>, 'type' | 'usage'>

/** What a shard answered to pushed streams it was sent (ingestStreams). */
export type StoredStreams = Omit<Extract<ShardReply, { type: 'stored-streams' }>, 'type' | 'usage'>

/** The tail requests (subscribe, unsubscribe, poll), all answered with what the shard's tails got. */
export type TailRequest = Extract<ShardRequest, { type: 'tail-subscribe' | 'tail-unsubscribe' | 'tail-poll' }>

/** A timing summary, ms, at the percentiles /metrics exports. */
export interface Percentiles { p50: number, p90: number, p99: number }

/** How long the transport's requests ran on the shard and waited before they ran, since it (re)started. */
export interface ShardTimings { runTime: Percentiles, waitTime: Percentiles }

/** What a transport tells the server about its shards, for the server log and /metrics. */
export interface ShardEvents {
  /** Crashes and restarts. */
  onEvent?: (event: 'crashed' | 'restarted', detail: { shard: number, error?: string, restartInMs?: number, restarts: number }) => void
  /** A shard with a data folder has loaded it (at start and after each restart), before it is ready. */
  onRecovered?: (shard: number, recovery: Recovery) => void
  /** The shard's last disk failure (a sync on a timer, a checkpoint) changed: a new one, or null once it recovered. */
  onDiskError?: (shard: number, error: string | null) => void
}

export interface Shard {
  /** The shard's number: its name in messages, metrics and DATA_DIR (shard-<id>). */
  readonly id: number
  /** 'ready' when it takes requests; /healthz is 503 while any shard is not. */
  readonly state: ShardState
  /** Times it was restarted after a crash. */
  readonly restarts: number
  /** What the shard last said it holds (every reply carries it). */
  readonly usage: Usage
  /** What it loaded from its data folder when it last started; null without DATA_DIR. */
  readonly recovery: Recovery | null
  /** Request timings, or null while down or when the transport keeps none. */
  readonly timings: ShardTimings | null
  /** Bytes of query parts lent (QueryPart.lent) and not given back yet; 0 for a transport that lends none. */
  readonly lentBytes: number

  /** Resolves once the shard has said it is ready (again, after a restart). */
  whenReady (): Promise<void>

  /**
   * Queues records with their sequence numbers; settles once the shard has
   * stored them, with the indexes (into `records`) it refused because it holds
   * its share of MAX_SERVICES. A transport may coalesce what is queued during
   * one event-loop turn into one message; it must keep seq order.
   */
  ingest (records: readonly LogRecord[], seqs: readonly number[]): Promise<number[]>

  /** Sends NDJSON lines for the shard to parse and store, after every entry queued before them. */
  ingestLines (batch: LineBatch): Promise<StoredLines>

  /** Sends pushed streams for the shard to decode and store, after every entry queued before them. */
  ingestStreams (batch: StreamBatch): Promise<StoredStreams>

  /**
   * Runs a query; when `signal` aborts, the shard is told to cancel it (it
   * then answers an error). Resolves to the shard's parts, each sorted, which
   * the front merges with every other shard's: one for a worker shard, one per
   * store of its own for a shard that is several (a cluster partition's owner).
   */
  query (query: ShardQuery, signal?: AbortSignal): Promise<QueryPart[]>

  /**
   * Gives back the memory a part of a query that let it `lend` was made in
   * (QueryPart.lent), once nothing reads the part's arrays any more; a part
   * in memory of its own (or given back already) is left alone.
   */
  release (part: QueryPart): void

  /** Tenant `tenant`'s services (absent: fake), by the names their senders gave. */
  services (after: string | null, limit: number, tenant?: string): Promise<{ services: ServiceStats[], complete: boolean }>

  /** The streams of `tenants` (absent: fake); across several, labeled with __tenant_id__. */
  streams (start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants?: string[]): Promise<{ streams: StreamStats[], complete: boolean }>

  /** Subscribes, unsubscribes or polls live tails; a poll answers what the shard's tails got. */
  tail (req: TailRequest): Promise<{ batches: TailBatch[], unknown: number[] }>

  /** What the shard holds and its housekeeping totals (refreshing `usage`); null while it is down. */
  stats (): Promise<{ usage: Usage, counters: ShardCounters } | null>

  /** Hands the shard LIMITS_FILE's retention (store/retention.ts), in force from its next purge. */
  setRetention (spec: RetentionSpec | null): Promise<void>

  /** Hands the shard the delete requests in force, the whole list (store/deletions.ts). */
  setDeletions (list: Deletion[]): Promise<void>

  /** Sends what is queued, then stops the shard. */
  close (): Promise<void>
}
