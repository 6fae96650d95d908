import { MAX_REJECTED_LISTED, type IngestBatch, type LineBatch, type Rejected, type StreamBatch, type StreamRef } from './batch.js'
import { checkLine } from './entry.js'
import { entryRecord, problemText, readLokiStream, streamIdentity } from './formats/loki-push.js'
import { decodeResourceLogs, resourceRecords } from './formats/otlp-logs.js'
import type { LogRecord, Pairs } from './record.js'
import { entryLimitProblem } from './entry-limits.js'
import { FAKE_TENANT, storedService } from '../tenants/tenant-id.js'

// The ingest code that runs on a shard thread, before its store: it turns
// what the shard was sent (a columnar batch, or NDJSON lines still to parse)
// into entries put into the store's sink, one call per entry and no copy of
// it. The store only stores; a durable store's sink logs before it stores.
//
//   IngestBatch ─► putBatch ───┐
//   LineBatch   ─► putLines ───┼─► EntrySink.put ─► store (memory, or staged → WAL → memory)
//   StreamBatch ─► putStreams ─┘

/** Where ingest code puts entries; `S` is the store's own stream handle, opaque here. */
export interface EntrySink<S> {
  /** The stream of (service, labels), made if need be; null when it would be a new service past the store's share of MAX_SERVICES. */
  streamFor (service: string, labels: string[]): S | null
  put (stream: S, ts: number, seq: number, message: string, attrs: string[] | null): void
}

/** A sink that stores the streams it is asked for under `tenant`'s stored names (tenants/tenant-id.ts); tenant fake's are the names themselves. */
export function tenantSink<S> (tenant: string | undefined, sink: EntrySink<S>): EntrySink<S> {
  if (tenant === undefined || tenant === FAKE_TENANT) return sink
  return { streamFor: (service, labels) => sink.streamFor(storedService(tenant, service), labels), put: (stream, ts, seq, message, attrs) => sink.put(stream, ts, seq, message, attrs) }
}

/** Puts a batch built on the front thread; returns how many were put and the indexes refused for MAX_SERVICES. */
export function putBatch<S> (batch: IngestBatch, sink: EntrySink<S>): { count: number, full: number[] } {
  const { streamIdx, ts, seq, messages, attrCount, attrs } = batch
  const targets = batch.streams.map((ref: StreamRef) => sink.streamFor(ref.service, ref.labels))
  const full: number[] = []
  let a = 0
  for (let i = 0; i < ts.length; i++) {
    const pairs = attrCount[i]! === 0 ? null : attrs.slice(a, a += 2 * attrCount[i]!)
    const stream = targets[streamIdx[i]!]
    if (stream == null) {
      full.push(i)
      continue
    }
    sink.put(stream, ts[i]!, seq[i]!, messages[i]!, pairs)
  }
  return { count: ts.length - full.length, full }
}

export interface PutLines {
  count: number
  rejected: Rejected[]
  rejectedCount: number
  misrouted: number[]
  full: number[]
}

/**
 * Parses and validates NDJSON lines (see LineBatch) and puts them. Lines whose
 * service belongs to another shard (by `owns`) are handed back, not put.
 */
export function putLines<S> (batch: LineBatch, owns: (service: string) => boolean, sink: EntrySink<S>): PutLines {
  const { text, starts, ends } = batch
  const bytes = typeof text === 'string' ? null : Buffer.from(text.buffer, text.byteOffset, text.byteLength)
  const window = { oldest: batch.oldest, newest: batch.newest }
  const limits = batch.entryLimits
  const rejected: Rejected[] = []
  const misrouted: number[] = []
  const full: number[] = []
  let rejectedCount = 0
  let count = 0
  let service: string | null = null
  let stream: S | null = null
  for (let i = 0; i < starts.length; i++) {
    let entry = checkLine(typeof text === 'string' ? text.slice(starts[i], ends[i]) : bytes!.toString('utf8', starts[i], ends[i]), window)
    if (limits !== undefined && typeof entry !== 'string') entry = entryLimitProblem(entry, limits) ?? entry
    if (typeof entry === 'string') {
      if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index: batch.index[i]!, error: entry })
      continue
    }
    if (!owns(entry.service)) {
      misrouted.push(batch.index[i]!)
      continue
    }
    // Consecutive lines of one service share the stream looked up for the first (as the store did before).
    if (stream === null || service !== entry.service) {
      service = entry.service
      stream = sink.streamFor(entry.service, entry.labels ?? [])
    }
    if (stream === null) {
      full.push(batch.index[i]!)
      continue
    }
    sink.put(stream, entry.ts, batch.seq[i]!, entry.message, entry.attributes)
    count++
  }
  return { count, rejected, rejectedCount, misrouted, full }
}

export interface PutStreams {
  count: number
  rejected: Rejected[]
  rejectedCount: number
  full: number[]
}

/**
 * Decodes pushed streams (see StreamBatch) and puts their valid entries;
 * refused ones are named by their request index, in the protocol's words. A
 * stream of a service this shard does not own is a routing bug: thrown.
 */
export function putStreams<S> (batch: StreamBatch, owns: (service: string) => boolean, sink: EntrySink<S>): PutStreams {
  const { bytes, starts, ends, first, seq, oldest, newest, entryLimits: limits } = batch
  const out: PutStreams = { count: 0, rejected: [], rejectedCount: 0, full: [] }
  // The store's stream of the last service and labels seen, looked up once per run of them.
  let key: string | null = null
  let labelsOf: Pairs | null = null
  let stream: S | null = null
  const put = (index: number, record: LogRecord): void => {
    if (limits !== undefined) {
      const problem = entryLimitProblem(record, limits)
      if (problem !== null) return refuse(index, () => problem)
    }
    if (!owns(record.service)) throw new Error(`an entry of service ${JSON.stringify(record.service)} was sent to the wrong shard`)
    if (key !== record.service || labelsOf !== record.labels) {
      key = record.service
      labelsOf = record.labels
      stream = sink.streamFor(record.service, record.labels ?? [])
    }
    if (stream === null) {
      out.full.push(index)
      return
    }
    sink.put(stream, record.ts, seq + index, record.message, record.attributes)
    out.count++
  }
  const refuse = (index: number, error: () => string): void => {
    if (out.rejectedCount++ < MAX_REJECTED_LISTED) out.rejected.push({ index, error: error() })
  }
  for (let i = 0; i < starts.length; i++) {
    if (batch.format === 'otlp') {
      let k = first[i]!
      resourceRecords(decodeResourceLogs(bytes, starts[i]!, ends[i]!), batch.ordinals[i]!, batch.arrival, oldest, newest, (record, problem) => {
        const index = k++
        if (record === null) refuse(index, problem)
        else put(index, record)
      })
      continue
    }
    const { labels, entries } = readLokiStream(bytes, starts[i]!, ends[i]!)
    const identity = streamIdentity(labels, batch.serviceLabels)
    entries.forEach((e, k) => {
      const record = entryRecord(e, identity, oldest, newest)
      if (typeof record === 'string') refuse(first[i]! + k, () => problemText(e, labels, record))
      else put(first[i]! + k, record)
    })
  }
  return out
}
