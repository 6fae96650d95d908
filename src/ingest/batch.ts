// What the front hands a shard to store: entries as columns (IngestBatch) or
// NDJSON lines for the shard to parse (LineBatch), and how a refused entry is
// named in the answer. Plain data, carried by the shard messages (store/shard-messages.ts).

import type { EntryLimits } from './entry-limits.js'

/** A stream: a service (its stored name, the tenant's prefix included: tenants/tenant-id.ts) and its other labels, as flat pairs [k0, v0, k1, v1, ...] sorted by key. */
export interface StreamRef {
  service: string
  labels: string[]
}

/** Entries bound for one shard, in the order the front thread accepted them. */
export interface IngestBatch {
  /** Distinct streams in this batch; streamIdx points into it. */
  streams: StreamRef[]
  streamIdx: Uint32Array<ArrayBuffer>
  /** Epoch microseconds. */
  ts: Float64Array<ArrayBuffer>
  /** Arrival sequence numbers, increasing within a batch and across batches. */
  seq: Float64Array<ArrayBuffer>
  messages: string[]
  /** Attribute pairs of each entry; entry i's are the next attrCount[i] pairs of attrs. */
  attrCount: Uint8Array<ArrayBuffer>
  /** Flat attribute pairs [k0, v0, k1, v1, ...] of every entry in turn. */
  attrs: string[]
}

/**
 * NDJSON lines bound for one shard, parsed and validated there rather than on
 * the front thread, so the shards share the parsing. The front routed each
 * line by a quick look at its "service" key; the shard checks that it owns
 * the service it parses and hands back the lines it does not own.
 */
export interface LineBatch {
  /**
   * This shard's lines of the request body, joined by newlines: UTF-8 bytes
   * (an NDJSON body, transferred) or text (a JSON array's elements); line i
   * is text[starts[i], ends[i]).
   */
  text: string | Uint8Array<ArrayBuffer>
  starts: Uint32Array<ArrayBuffer>
  ends: Uint32Array<ArrayBuffer>
  /** Each line's 0-based index among the request's entries. */
  index: Uint32Array<ArrayBuffer>
  /** Arrival sequence number of each line. */
  seq: Float64Array<ArrayBuffer>
  /** Accepted timestamp window, epoch microseconds, inclusive. */
  oldest: number
  newest: number
  /** The tenant the lines are for (tenants/tenant-id.ts); absent: fake. */
  tenant?: string
  /** The tenant's limits on one entry (LIMITS_FILE); absent: none. */
  entryLimits?: EntryLimits
}

/**
 * Pushed streams bound for one shard, decoded there rather than on the front
 * thread (Loki push, protobuf): the front checked the whole body's wire
 * format, read each stream's labels and sent the stream's bytes to the shard
 * of its service (ingest/formats/loki-push.ts lokiSpans), so nothing left can
 * fail to decode.
 */
export interface StreamBatch {
  /** The decoder: logproto.StreamAdapter messages (loki) or OTLP ResourceLogs (otlp). */
  format: 'loki' | 'otlp'
  /** This shard's streams, one after another; stream i is bytes[starts[i], ends[i]). */
  bytes: Uint8Array<ArrayBuffer>
  starts: Uint32Array<ArrayBuffer>
  ends: Uint32Array<ArrayBuffer>
  /** The request index of stream i's first entry; its others follow it. */
  first: Uint32Array<ArrayBuffer>
  /** Stream i's position among the request's streams (named in refusals). */
  ordinals: Uint32Array<ArrayBuffer>
  /** Epoch µs when the body was read: the time of entries that carry none (OTLP). */
  arrival: number
  /** The arrival sequence number of the request's entry 0: entry k has seq + k. */
  seq: number
  /** Accepted timestamp window, epoch microseconds, inclusive. */
  oldest: number
  newest: number
  /** SERVICE_LABELS: the labels a stream's service is read from, in order. */
  serviceLabels: string[]
  /** The tenant the streams are for (tenants/tenant-id.ts); absent: fake. */
  tenant?: string
  /** The tenant's limits on one entry (LIMITS_FILE); absent: none. */
  entryLimits?: EntryLimits
}

/** A line a shard refused, by its index in the request. */
export interface Rejected { index: number, error: string }

/** At most this many rejected entries are described one by one in an answer. */
export const MAX_REJECTED_LISTED = 1000
