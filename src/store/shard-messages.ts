import type { Unwrap } from '../logql/ast.js'
// Every message that crosses between the front thread and a shard. The shapes
// are plain data (strings, numbers, typed arrays), independent of how they
// travel: today piscina tasks between threads, later a stream partition.
//
// Entries travel as columns: one typed array per numeric field and one array
// of strings, so a batch of 1000 entries is a handful of objects to clone, not 1000.

import type { Grouping, LabelMatcher, LogQuery, LogSelection } from '../logql/ast.js'
import type { Sample } from '../logql/range-functions.js'
import type { RenderFormat } from './render/index.js'
import type { LokiShape } from './render/loki-streams.js'
import type { ServiceOwnership } from '../core/hash.js'
import type { IngestBatch, LineBatch, Rejected, StreamBatch } from '../ingest/batch.js'
import type { RetentionSpec } from './retention.js'
import type { Deletion } from './deletions.js'

export type { ServiceOwnership } from '../core/hash.js'
export { MAX_REJECTED_LISTED, type IngestBatch, type LineBatch, type Rejected, type StreamBatch, type StreamRef } from '../ingest/batch.js'

/** Where the previous page stopped: results continue strictly after it. */
export interface After { ts: number, seq: number }

/** An attribute (or stream label) the entries must have. */
export interface AttrMatch { key: string, value: string }

export interface ShardQuery {
  /** Names this query in a later cancel message; unique per front thread. */
  id: number
  /** Stored service names (tenants/tenant-id.ts); null means every service the shard holds of `tenants`. */
  services: string[] | null
  /**
   * Only services of these hash partitions (cluster mode: an instance holds
   * partitions it no longer answers for, and answers for one partition at a
   * time); absent: every service.
   */
  partitions?: ServiceOwnership
  /** The tenants whose entries the query reads (several: a query across tenants); absent: tenant fake alone. */
  tenants?: string[]
  /** Inclusive bounds, epoch microseconds. */
  start: number
  end: number
  descending: boolean
  /** Most entries to return. */
  limit: number
  after: After | null
  /** Substring the message must contain, or null. */
  contains: string | null
  /** Attribute equalities the entries must all meet. */
  attrs: AttrMatch[]
  /** Rendered bytes after which the shard stops early (the part is then incomplete). */
  maxBytes: number
  /** How entries are rendered (store/render/); absent: the native GET /logs JSON. */
  format?: RenderFormat
  /** With format 'loki-streams' or 'loki-answer': the query's parser, drop / keep, line_format and label categories. */
  loki?: LokiShape
  /** A LogQL log query's stream selector and filters (src/logql/); absent: services, contains and attrs alone. */
  select?: LogSelection
  /** Count the matching entries per series and step instead of returning them (a LogQL range aggregation). */
  metric?: MetricSpec
  /** Epoch ms after which the shard gives up (QUERY_TIMEOUT); absent: no deadline. */
  deadline?: number
  /** Most entries the shard may look at before giving up (QUERY_MAX_SCAN); absent: no cap. */
  maxScan?: number
  /**
   * The front gives the part back (Shard.release) once it has written it, so
   * the shard may make it in memory the transport lends (QueryPart.lent);
   * absent: the part is the front's to keep.
   */
  lend?: boolean
}

/**
 * A LogQL range aggregation as a shard runs it: each matching entry adds 1
 * (count) or its message's bytes to every evaluation time t with
 * t − range < ts ≤ t, in the series of its labels (service, stream labels,
 * attributes, after drop / keep; grouped when the query sums them anyway).
 */
export interface MetricSpec {
  op: Sample
  /** The first evaluation time, epoch µs; then one every stepUs, `points` in all. */
  first: number
  stepUs: number
  points: number
  rangeUs: number
  /** Sum the series by these labels on the shard already; null keeps every label set apart. */
  groupBy: Grouping | null
  labelStages: LogQuery['labelStages']
  /** The query's parser: the line's fields join each entry's labels. */
  parser?: 'json' | 'logfmt'
  /** `| unwrap`: each entry's value of this label is collected (MetricSeries.samples) instead of counted. */
  unwrap?: Unwrap
  /** Most series one shard may make (MAX_QUERY_SERIES); past it the query is refused (400). */
  maxSeries: number
  /** Most series × points one shard may make (MAX_QUERY_SAMPLES); past it the query is refused (400). */
  maxSamples: number
  /** A query across tenants: each series' labels carry its __tenant_id__ (the router sets it). */
  tenantLabel?: boolean
}

/** A run of memory a transport lent a part in: its offset and length in the transport's shared buffer. */
export interface Lent { at: number, bytes: number }

/** One series of a metric answer: its labels as sorted pairs, and a value per evaluation time (0: no entry). */
export interface MetricSeries {
  labels: string[]
  values: Float64Array<ArrayBuffer>
  /** With `unwrap`: the series' values and their times (epoch µs), in time order; then `values` is empty. */
  samples?: { ts: Float64Array<ArrayBuffer>, values: Float64Array<ArrayBuffer> }
}

/**
 * A shard's answer to a query: entries sorted in the query's order, already
 * rendered as the JSON objects of the HTTP answer, so the costly part of
 * rendering runs on the shards in parallel and the front only merges slices.
 */
export interface QueryPart {
  ts: Float64Array
  seq: Float64Array
  /** UTF-8 JSON objects joined by ','; entry i is body[i === 0 ? 0 : ends[i - 1] + 1, ends[i]). */
  body: Uint8Array
  ends: Uint32Array
  /**
   * False when the shard stopped at maxBytes: entries after the last one may
   * exist, so the merge must not go past it.
   */
  complete: boolean
  /** Entries the shard examined for this part (for /metrics). */
  scanned: number
  /** A metric query's series (then no entries are returned). */
  series?: MetricSeries[]
  /** Format 'loki-answer': the part's distinct label sets (JSON objects) and each entry's index into them; body holds the values. */
  streams?: { labels: string[], of: Uint32Array }
  /**
   * Where the transport lent the memory the arrays above live in (a query
   * that asked to `lend`); the front gives it back with Shard.release once
   * nothing reads them. Absent: the arrays are in memory of their own.
   */
  lent?: Lent
  /**
   * ms from the shard's taking the query to its answer (wall), and of that,
   * ms spent running it (the rest it gave the thread back to other work).
   * Measured on the shard's own clock, so the front can tell the hop there
   * and back (its round trip minus wall) on any transport.
   */
  wallMs?: number
  runMs?: number
}

export interface ServiceStats {
  service: string
  count: number
  /** Epoch microseconds. */
  oldest: number
  newest: number
}

/** A stream and what it holds in a time range (whole blocks that overlap it, so an estimate at the edges). */
export interface StreamStats {
  /** service and the stream labels, as sorted pairs. */
  labels: string[]
  entries: number
  /** Bytes held in memory (blocks compressed once sealed). */
  bytes: number
  blocks: number
}

/**
 * What one tail got on one shard since the last poll, rendered in the tail's
 * format, as a query part (arrival order); `dropped` entries did not fit (the
 * first few named by their stream's labels and time).
 */
/**
 * How a shard renders a tail's entries, ready for its client: an SSE event
 * (`id:` and `data:` in GET /logs's entry shape), an NDJSON line, a text line
 * (`<timestamp> <service> <message>`), or a Loki tail stream.
 */
export type TailFormat = 'sse' | 'ndjson' | 'text' | 'loki'

/** What one tail may have waiting on one shard between two polls (TAIL_BUFFER, TAIL_BUFFER_BYTES). */
export interface TailLimits {
  entries: number
  /** Rendered bytes, as they will be sent. */
  bytes: number
}

export interface TailBatch {
  id: number
  part: QueryPart
  dropped: number
  droppedNamed: Array<{ labels: string[], ts: number }>
}

/** What a shard holds, sent with every reply so the front can enforce MAX_ENTRIES / MAX_MEMORY. */
export interface Usage {
  entries: number
  /** Bytes the store holds: compressed blocks, open blocks, streams. */
  bytes: number
  services: number
  streams: number
  /** The shard's V8 heap in use and its limit, bytes, so the front refuses ingest before the shard runs out. */
  heapUsed: number
  heapLimit: number
  /** Queries the shard is running (cancelled ones stop at their next slice). */
  queries: number
  /** With DATA_DIR: bytes of the shard's log and block files, and its last disk failure not yet recovered from. */
  disk: { bytes: number, error: string | null } | null
  /** Rendered bytes the shard holds for live tails now (TAIL_SHARD_BYTES bounds it), and the most it ever held. */
  tailBytes: number
  tailPeakBytes: number
}

/** Running totals of a shard's housekeeping since its worker started, for /metrics. */
export interface ShardCounters {
  purgeRuns: number
  purgedEntries: number
  /** Time spent purging, seconds. */
  purgeSeconds: number
  /** Open blocks sealed (compressed) because they took no entry for a while. */
  idleSeals: number
  /** Entries purged by each rule, keyed `<tenant> U+0000 <rule>` (store/retention.ts names the rules). */
  purgedByRule: Record<string, number>
}

export const NO_USAGE: Usage = Object.freeze({ entries: 0, bytes: 0, services: 0, streams: 0, heapUsed: 0, heapLimit: Infinity, queries: 0, disk: null, tailBytes: 0, tailPeakBytes: 0 })

/** What a shard with a data folder loaded before it said ready (src/store/disk/shard-disk.ts). */
export interface Recovery {
  ms: number
  entries: number
  /** Bytes of block files and log read. */
  bytes: number
  blockFiles: number
  segments: number
  records: number
  /** The largest sequence number the shard ever stored, so the front numbers on above it. */
  maxSeq: number
  /** Damage found and what was done about it, one line each (for the server log). */
  problems: string[]
}

export type ShardRequest =
  | { type: 'hello' }
  | { type: 'ingest', batch: IngestBatch }
  | { type: 'ingest-lines', batch: LineBatch }
  | { type: 'ingest-streams', batch: StreamBatch }
  | { type: 'query', query: ShardQuery }
  /** Stops query `id` if it is queued or running; it then answers an error. */
  | { type: 'cancel', id: number }
  /** Up to `limit` services of `tenant` (absent: fake) after the name `after`, in name order. */
  | { type: 'services', after: string | null, limit: number, tenant?: string }
  /** Starts keeping the new entries `select` matches for tail `id`, at most `limits` between polls. */
  | { type: 'tail-subscribe', id: number, select: LogSelection, limits: TailLimits, format: TailFormat }
  | { type: 'tail-unsubscribe', id: number }
  /** Hands over (and forgets) what each of the tails `ids` got since the last poll; `stalled` ones' is only counted as dropped. */
  | { type: 'tail-poll', ids: number[], stalled: number[] }
  /** The streams with entries between start and end (µs, inclusive) that the selector matches (null: all), up to `limit`. */
  | { type: 'streams', start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants?: string[] }
  | { type: 'stats' }
  /** LIMITS_FILE's retention for every tenant (store/retention.ts), in force from the next purge on; null: RETENTION for all. */
  | { type: 'retention', spec: RetentionSpec | null }
  /** The delete requests in force (store/deletions.ts), the whole list: their entries are no longer read. */
  | { type: 'deletions', list: Deletion[] }

export type ShardReply =
  /** recovery: what the shard loaded from its data folder (null without DATA_DIR). */
  | { type: 'ready', shard: number, usage: Usage, recovery: Recovery | null }
  /** full: batch indexes of entries refused because the shard holds its share of MAX_SERVICES. */
  | { type: 'stored', count: number, full: number[], usage: Usage }
  /**
   * rejected lists at most MAX_REJECTED_LISTED of rejectedCount; misrouted are indexes of lines another shard owns;
   * full are indexes of lines refused because the shard holds its share of MAX_SERVICES.
   */
  | { type: 'stored-lines', count: number, rejected: Rejected[], rejectedCount: number, misrouted: number[], full: number[], usage: Usage }
  /** rejected (at most MAX_REJECTED_LISTED of rejectedCount) and full are request indexes of entries, as for lines. */
  | { type: 'stored-streams', count: number, rejected: Rejected[], rejectedCount: number, full: number[], usage: Usage }
  | { type: 'cancelled', usage: Usage }
  | { type: 'result', part: QueryPart, usage: Usage }
  /** complete: the shard has no services after the last one listed. */
  | { type: 'services', services: ServiceStats[], complete: boolean, usage: Usage }
  /** unknown: tails this shard does not hold (it restarted since they subscribed). */
  | { type: 'tail', batches: TailBatch[], unknown: number[], usage: Usage }
  /** complete: false when more than `limit` streams matched. */
  | { type: 'streams', streams: StreamStats[], complete: boolean, usage: Usage }
  | { type: 'stats', usage: Usage, counters: ShardCounters }
  | { type: 'set', usage: Usage }
  /** A request the shard refused; errors cross threads as a code and a message, never as a class. */
  | { type: 'error', code: string, message: string, usage: Usage }

/** Options a shard is started with. */
export interface ShardInit {
  /** The shard's number: its name in messages and its DATA_DIR subfolder (shard-<shard>). */
  shard: number
  owns: ServiceOwnership
  /** ms */
  retention: number
  /** ms */
  purgeInterval: number
  /** Services this shard may hold (its share of MAX_SERVICES); entries of new services past it are refused. */
  maxServices: number
  /** DATA_DIR; the shard owns its subfolder shard-<shard>. '' keeps everything in memory. */
  dataDir: string
  /** FSYNC, as settings.ts checked it: batch, off or interval:<duration>. */
  fsync: string
  /** ms between checkpoints (CHECKPOINT_INTERVAL). */
  checkpointMs: number
  /** With DATA_DIR: blocks in block files whose entries are all older than this (ms, HOT_WINDOW) leave memory. */
  hotWindowMs: number
  /** With DATA_DIR: past this many bytes held, blocks in block files leave memory too, oldest first. */
  hotBytes: number
  /** Rendered bytes the shard may hold for all its live tails together between polls (TAIL_SHARD_BYTES). */
  tailShardBytes: number
  /** BLOCK_CODEC, as settings.ts checked it: the codec name new blocks are sealed with. */
  blockCodec: string
  /** SHARD_NICE: the shard's thread lowers its own priority by this much (0: as the front). */
  nice: number
  /** LIMITS_FILE's retention at start (later ones come as 'retention' messages); absent: RETENTION for all. */
  tenantRetention?: RetentionSpec | null
  /** The delete requests in force at start (later lists come as 'deletions' messages). */
  deletions?: Deletion[]
  /** Memory shared with the front that the shard may lend query parts in (the worker transport adds it: page-memory.ts); absent: none. */
  pageMemory?: SharedArrayBuffer
}

/** Thrown for a message type the receiver does not know: always a bug. */
export class UnknownMessageError extends Error {
  constructor (type: unknown) {
    super(`unknown shard message type: ${String(type)}`)
  }
}
