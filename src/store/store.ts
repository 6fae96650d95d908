import type { LabelMatcher } from '../logql/ast.js'
import type { TailHub } from './tail-hub.js'
import type { IngestBatch, LineBatch, QueryPart, Rejected, ServiceStats, ShardQuery, StreamStats } from '../protocol.js'

// What a shard's request handler needs from its store, and nothing more:
// append, scan with a budget, list services, seal and purge, counts. The
// handler never reaches into streams or blocks.

/** A query in progress. run() until it answers true, giving the thread back in between; then part(). */
export interface QueryRun {
  run (): boolean
  /** Starts the next slice after the thread was given back. */
  resume (): void
  part (): QueryPart
}

export interface LogStore {
  readonly entries: number
  /** Bytes held: compressed blocks, open blocks, streams. */
  readonly bytes: number
  readonly serviceCount: number
  readonly streamCount: number
  /** Stores a batch; `full` lists the indexes refused because the store holds its share of MAX_SERVICES. */
  ingest (batch: IngestBatch, now?: number): { count: number, full: number[] }
  /** Parses, validates and stores NDJSON lines; lines of services it does not own are handed back. */
  ingestLines (batch: LineBatch, owns: (service: string) => boolean, now?: number): { count: number, rejected: Rejected[], rejectedCount: number, misrouted: number[], full: number[] }
  /** Starts a query that hides entries older than `cutoff` and gives the thread back every `sliceMs`. */
  query (q: ShardQuery, cutoff: number, sliceMs: number): QueryRun
  listServices (after: string | null, limit: number): { services: ServiceStats[], complete: boolean }
  /** Streams with entries between start and end that `selector` matches (null: every stream), at most `limit`. */
  listStreams (start: number, end: number, selector: LabelMatcher[] | null, limit: number): { streams: StreamStats[], complete: boolean }
  /** The live tails matched against every entry stored. */
  readonly tail: TailHub
  /** Seals open blocks idle for `idleMs`. */
  sealIdle (now: number, idleMs: number): number
  /** Drops whole blocks older than `cutoff`; returns the entries dropped. */
  purge (cutoff: number): number
}
