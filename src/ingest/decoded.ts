import { MAX_REJECTED_LISTED, type Rejected, type StreamBatch } from './batch.js'
import type { Window } from './entry.js'
import type { Body, RoutedLines } from './ndjson.js'
import type { StreamShare } from './spans.js'
import type { LogRecord } from './record.js'

// What a protocol's decoder makes of a request body, and what became of its
// entries once stored (shards/ingest-pipeline.ts stores the one and returns
// the other): the two shapes every ingest protocol shares.

/** Records a decoder checked: the valid ones, and what it refused. */
export interface DecodedRecords<P> {
  kind: 'records'
  /** Entries in the request, valid or not. */
  total: number
  records: LogRecord[]
  /** The request index of records[k]; null when they are the request's entries in order, or when the protocol answers with counts only. */
  indexes: number[] | null
  /** Why entries were refused, at most MAX_REJECTED_LISTED of them (the protocol's own shape). */
  invalid: P[]
  invalidCount: number
}

/** NDJSON lines or JSON array elements routed by a quick look at their service, parsed by the shards. */
export interface DecodedLines {
  kind: 'lines'
  total: number
  text: Body
  routed: RoutedLines
  window: Window
}

/** Pushed streams (Loki or OTLP protobuf) whose wire format the front checked, routed by service, decoded by the shards. */
export interface DecodedStreams {
  kind: 'streams'
  format: StreamBatch['format']
  total: number
  /** The decoded (unsnappied) push body. */
  body: Uint8Array
  perShard: StreamShare[]
  window: Window
  /** Epoch µs when the body was read: the time of entries that carry none (OTLP). */
  arrival: number
  serviceLabels: string[]
}

export type Decoded<P = Rejected> = DecodedRecords<P> | DecodedLines | DecodedStreams

/** What became of a request's entries. */
export interface Outcome<P = Rejected> {
  total: number
  /** Entries refused as invalid: listed (sorted by index where they have one), and counted. */
  invalid: P[]
  invalidCount: number
  /** Request indexes of the entries refused because the store holds MAX_SERVICES services, ascending. */
  full: number[]
  stored: number
}

/** Collects checked entries (each a record, or the sentence saying why it is refused) into DecodedRecords, listing at most MAX_REJECTED_LISTED refusals. */
export class CheckedRecords {
  total = 0
  private readonly records: LogRecord[] = []
  private readonly indexes: number[] = []
  private readonly invalid: Rejected[] = []
  private invalidCount = 0

  add (entry: LogRecord | string): void {
    const index = this.total++
    if (typeof entry !== 'string') {
      this.records.push(entry)
      this.indexes.push(index)
    } else if (this.invalidCount++ < MAX_REJECTED_LISTED) {
      this.invalid.push({ index, error: entry })
    }
  }

  done (): DecodedRecords<Rejected> {
    const { total, records, indexes, invalid, invalidCount } = this
    return { kind: 'records', total, records, indexes: invalidCount === 0 ? null : indexes, invalid, invalidCount }
  }
}

/** DecodedRecords from checked entries. */
export function decodedRecords (checked: Iterable<LogRecord | string>): DecodedRecords<Rejected> {
  const out = new CheckedRecords()
  for (const entry of checked) out.add(entry)
  return out.done()
}
