// Every message that crosses between the front thread and a shard. The shapes
// are plain data (strings, numbers, typed arrays), independent of how they
// travel: today piscina tasks between threads, later a stream partition.
//
// Entries travel as columns: one typed array per numeric field and one array
// of strings, so a batch of 1000 entries is a handful of objects to clone, not 1000.

/** Entries bound for one shard, in the order the front thread accepted them. */
export interface IngestBatch {
  /** Distinct service names in this batch; serviceIdx points into it. */
  services: string[]
  serviceIdx: Uint32Array<ArrayBuffer>
  /** Epoch microseconds. */
  ts: Float64Array<ArrayBuffer>
  /** Arrival sequence numbers, increasing within a batch and across batches. */
  seq: Float64Array<ArrayBuffer>
  messages: string[]
}

/**
 * NDJSON lines bound for one shard, parsed and validated there rather than on
 * the front thread, so the shards share the parsing. The front routed each
 * line by a quick look at its "service" key; the shard checks that it owns
 * the service it parses and hands back the lines it does not own.
 */
export interface LineBatch {
  /** This shard's lines of the request body, joined by newlines; line i is text.slice(starts[i], ends[i]). */
  text: string
  starts: Uint32Array<ArrayBuffer>
  ends: Uint32Array<ArrayBuffer>
  /** Each line's 0-based index among the request's entries. */
  index: Uint32Array<ArrayBuffer>
  /** Arrival sequence number of each line. */
  seq: Float64Array<ArrayBuffer>
  /** Accepted timestamp window, epoch microseconds, inclusive. */
  oldest: number
  newest: number
}

/** A line a shard refused, by its index in the request. */
export interface Rejected { index: number, error: string }

/** Where the previous page stopped: results continue strictly after it. */
export interface After { ts: number, seq: number }

export interface ShardQuery {
  /** null means every service the shard holds. */
  services: string[] | null
  /** Inclusive bounds, epoch microseconds. */
  start: number
  end: number
  descending: boolean
  /** Most entries to return. */
  limit: number
  after: After | null
  /** Substring the message must contain, or null. */
  contains: string | null
  /** Epoch ms after which the shard gives up (QUERY_TIMEOUT); absent: no deadline. */
  deadline?: number
  /** Most entries the shard may look at before giving up (QUERY_MAX_SCAN); absent: no cap. */
  maxScan?: number
}

/**
 * A shard's answer to a query: entries sorted in the query's order, already
 * rendered as the JSON objects of the HTTP answer, so the costly part of
 * rendering runs on the shards in parallel and the front only merges slices.
 */
export interface QueryPart {
  ts: Float64Array<ArrayBuffer>
  seq: Float64Array<ArrayBuffer>
  /** UTF-8 JSON objects joined by ','; entry i is body[i === 0 ? 0 : ends[i - 1] + 1, ends[i]). */
  body: Uint8Array<ArrayBuffer>
  ends: Uint32Array<ArrayBuffer>
}

export interface ServiceStats {
  service: string
  count: number
  /** Epoch microseconds. */
  oldest: number
  newest: number
}

/** What a shard holds, sent with every reply so the front can enforce MAX_ENTRIES / MAX_MEMORY. */
export interface Usage {
  entries: number
  /** Estimated bytes of the stored entries. */
  bytes: number
}

export type ShardRequest =
  | { type: 'hello' }
  | { type: 'ingest', batch: IngestBatch }
  | { type: 'ingest-lines', batch: LineBatch }
  | { type: 'query', query: ShardQuery }
  | { type: 'services' }
  | { type: 'stats' }

export type ShardReply =
  | { type: 'ready', shard: number, usage: Usage }
  | { type: 'stored', count: number, usage: Usage }
  /** rejected lists at most MAX_REJECTED_LISTED of rejectedCount; misrouted are indexes of lines another shard owns. */
  | { type: 'stored-lines', count: number, rejected: Rejected[], rejectedCount: number, misrouted: number[], usage: Usage }
  | { type: 'result', part: QueryPart, usage: Usage }
  | { type: 'services', services: ServiceStats[], usage: Usage }
  | { type: 'stats', usage: Usage }
  /** A request the shard refused; errors cross threads as a code and a message, never as a class. */
  | { type: 'error', code: string, message: string, usage: Usage }

/** Options a shard is started with. */
export interface ShardInit {
  shard: number
  /** How many shards there are, to check that a line was routed here rightly. */
  shards: number
  /** ms */
  retention: number
  /** ms */
  purgeInterval: number
}

/** At most this many rejected entries are described one by one in an answer. */
export const MAX_REJECTED_LISTED = 1000

/** Thrown for a message type the receiver does not know: always a bug. */
export class UnknownMessageError extends Error {
  constructor (type: unknown) {
    super(`unknown shard message type: ${String(type)}`)
  }
}
