import type { EntrySink } from '../ingest/shard-ingest.js'
import type { LabelMatcher } from '../logql/ast.js'
import type { QueryPart, Recovery, ServiceStats, ShardQuery, StreamStats, Usage } from './shard-messages.js'
import type { Pairs } from './block.js'
import type { SealedBlock } from './sealed-block.js'
import type { Stream, StreamSlot } from './stream.js'
import type { TailHub } from './tail-hub.js'
import type { PartMemory } from './query-run.js'
import type { RetentionPolicy } from './retention.js'
import type { Deletions } from './deletions.js'

// What a shard's request handler needs from its store, and nothing more:
// store entries, scan with a budget, list services, seal and purge, counts.
// The handler never reaches into streams or blocks, and never knows whether
// the store is memory only (ShardStore) or logs to a data folder first
// (DurableStore, which wraps a MemoryStore).
//
//   handler ─► LogStore ─┬─ ShardStore                         (no DATA_DIR)
//                        └─ DurableStore ─► stage → WAL → apply ─► ShardStore (MemoryStore)

/** A query in progress. run() until it answers true, giving the thread back in between; then part(). */
export interface QueryRun {
  run (): boolean
  /** Starts the next slice after the thread was given back. */
  resume (): void
  /** The answer, its arrays made in `memory` (default: memory of its own). */
  part (memory?: PartMemory): QueryPart
}

/** A write the store refused (DATA_DIR: the log could not be written or synced); nothing of it was stored. */
export class StoreWriteError extends Error {
  override name = 'StoreWriteError'
  constructor (readonly code: 'LOGAGG_ERR_DISK_FULL' | 'LOGAGG_ERR_DISK_FAILED', message: string) {
    super(message)
  }
}

export interface LogStore {
  readonly entries: number
  /** Bytes held: compressed blocks, open blocks, streams. */
  readonly bytes: number
  readonly serviceCount: number
  readonly streamCount: number
  /** With a data folder: its bytes and last failure; null without one. */
  readonly diskUsage: Usage['disk']
  /** What loading the data folder found; null without one. */
  readonly recovery: Recovery | null
  /**
   * Runs `fill`, which puts entries into the sink (src/ingest/shard-ingest.ts),
   * and answers its result once they are stored: at once in memory; with a data
   * folder once their log record is as durable as FSYNC asks (a Promise then).
   * Throws (or rejects with) StoreWriteError when the log refused them: then none is stored.
   * `sizeHint`: about the bytes the entries take, to size a log record's buffer.
   */
  ingest<R> (fill: <S>(sink: EntrySink<S>) => R, sizeHint?: number): R | Promise<R>
  /** Starts a query that hides entries older than `cutoff` and gives the thread back every `sliceMs`. */
  query (q: ShardQuery, cutoff: number, sliceMs: number): QueryRun
  /** Tenant `tenant`'s services (default: fake). */
  listServices (after: string | null, limit: number, tenant?: string): { services: ServiceStats[], complete: boolean }
  /** Streams with entries between start and end that `selector` matches (null: every stream), at most `limit`. */
  /** The streams of `tenants` (default: fake); across several, labeled with __tenant_id__. */
  listStreams (start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants?: readonly string[]): { streams: StreamStats[], complete: boolean }
  /** The live tails matched against every entry stored. */
  readonly tail: TailHub
  /** Seals open blocks idle for `idleMs`. */
  sealIdle (now: number, idleMs: number): number
  /** Housekeeping besides sealing, every second: a durable store starts a due checkpoint and lets go of cold blocks. */
  maintain (): void
  /** Drops whole blocks older than `cutoff`; returns the entries dropped. */
  purge (cutoff: number): number
  /** The delete requests in force from now on (deletions.ts). */
  setDeletions (deletions: Deletions): void
  /** Drops, stream by stream, what is past the period `policy` gives each stream at `now` (µs; retention.ts); returns the entries dropped. */
  purgeStreams (now: number, policy: RetentionPolicy, dropped?: (stream: Stream, rule: string, entries: number) => void): number
}

/**
 * What a data folder's code (src/store/disk/) needs of the memory store it
 * wraps: streams to stage into and apply to, blocks to load, and which blocks
 * are not yet in a block file.
 */
export interface MemoryStore extends LogStore {
  /** The largest sequence number ever stored here, so a restarted front numbers on above it. */
  maxSeq: number
  /** The stream of (service, labels), made if need be; null when it would be a new service past the limit (`force`: never). */
  streamFor (service: string, labels: Pairs, force?: boolean): Stream | null
  /** True while `stream` is one of this store's (not purged since it was handed out). */
  holds (stream: Stream): boolean
  /** Stores one entry of `stream`, which must be one of this store's streams. */
  add (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null, now: number): void
  /** Adds a block read from a block file (at start), of a stream made if need be. */
  loadBlock (service: string, labels: Pairs, slot: number, late: boolean, block: SealedBlock): void
  /** From now on, remembers which stream-slots took entries, for takeUnpersisted(). */
  trackUnpersisted (): void
  /** Seals the open blocks of every stream-slot that took entries since the last call and returns every sealed block not yet in a block file. */
  takeUnpersisted (): Array<{ part: StreamSlot, late: boolean, block: SealedBlock }>
  /** Marks stream-slots as holding blocks not yet in a block file again (a checkpoint failed). */
  markUnpersisted (parts: Iterable<StreamSlot>): void
  /** Lets go of the data of blocks in block files older than `before` (µs), and more while over `targetBytes`. */
  evictCold (before: number, targetBytes: number): number
}
