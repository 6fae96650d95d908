import type { EntrySink } from '../../ingest/shard-ingest.js'
import type { LabelMatcher } from '../../logql/ast.js'
import type { Recovery, ServiceStats, ShardQuery, StreamStats, Usage } from '../shard-messages.js'
import { nowUs } from '../../core/timestamp.js'
import { StoreWriteError, type LogStore, type MemoryStore, type QueryRun } from '../store.js'
import type { TailHub } from '../tail-hub.js'
import type { RetentionPolicy } from '../retention.js'
import type { Stream } from '../stream.js'
import type { Deletions } from '../deletions.js'
import { ShardDisk, type ShardDiskOptions } from './shard-disk.js'
import { Staging } from './staging.js'
import { WalError } from './wal.js'

// A store with a data folder: a memory store wrapped so that every entry is
// logged before a query can read it. Each ingest call is
//
//   stage (Staging: a WAL record + columns) → log (Wal.commit, synced as FSYNC asks) → apply (memory store)
//
// and reads, tails, listing and purge go to the memory store. The folder's
// block files, checkpoints and start-up live in shard-disk.ts and shard-load.ts.

export interface DurableOptions extends ShardDiskOptions {
  /** Blocks whose entries are all older than this (ms) are kept in their files only (HOT_WINDOW) ... */
  hotWindowMs: number
  /** ... and older ones too while the store holds more than this (HOT_BYTES). */
  hotBytes: number
}

export class DurableStore implements LogStore {
  private constructor (private readonly memory: MemoryStore, readonly disk: ShardDisk, readonly recovery: Recovery, private readonly options: DurableOptions) {}

  /** Opens (creating it if need be) the data folder and loads it into `memory`: nothing older than `cutoff` (epoch µs). */
  static open (options: DurableOptions, memory: MemoryStore, cutoff: number): DurableStore {
    const { disk, recovery } = ShardDisk.open(options, memory, cutoff, nowUs() - options.hotWindowMs * 1000)
    return new DurableStore(memory, disk, recovery, options)
  }

  get entries (): number { return this.memory.entries }
  get bytes (): number { return this.memory.bytes }
  get serviceCount (): number { return this.memory.serviceCount }
  get streamCount (): number { return this.memory.streamCount }
  get tail (): TailHub { return this.memory.tail }
  get diskUsage (): Usage['disk'] { return { bytes: this.disk.bytes, error: this.disk.error } }

  ingest<R> (fill: <S>(sink: EntrySink<S>) => R, sizeHint?: number): R | Promise<R> {
    const staged = new Staging(this.memory, sizeHint)
    const result = fill(staged)
    if (staged.size === 0) return result
    let synced: Promise<void> | null
    try {
      synced = this.disk.wal.commit(staged.record.frame(), () => staged.apply())
    } catch (err) {
      throw refusal(err)
    }
    return synced === null ? result : synced.then(() => result, (err: unknown) => { throw refusal(err) })
  }

  query (q: ShardQuery, cutoff: number, sliceMs: number): QueryRun {
    return this.memory.query(q, cutoff, sliceMs)
  }

  listServices (after: string | null, limit: number, tenant?: string): { services: ServiceStats[], complete: boolean } {
    return this.memory.listServices(after, limit, tenant)
  }

  listStreams (start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants?: readonly string[]): { streams: StreamStats[], complete: boolean } {
    return this.memory.listStreams(start, end, selector, limit, tenants)
  }

  sealIdle (now: number, idleMs: number): number {
    return this.memory.sealIdle(now, idleMs)
  }

  /** Starts a checkpoint when one is due, then lets go of blocks that are in files and out of the hot window. */
  maintain (): void {
    this.disk.maintain()
    this.memory.evictCold(nowUs() - this.options.hotWindowMs * 1000, this.options.hotBytes)
  }

  /** Drops old blocks in memory, then deletes the block files all older than `cutoff` (in the background). */
  purge (cutoff: number): number {
    const dropped = this.memory.purge(cutoff)
    this.disk.purge(cutoff).catch(() => {})
    return dropped
  }

  /**
   * Drops what each stream's retention has passed in memory (retention.ts);
   * the block files, which hold many streams, are deleted once all their
   * blocks are past RETENTION. A shard applies its rules again when it loads
   * the folder (shard-handler.ts), so what a rule purged does not come back.
   */
  purgeStreams (now: number, policy: RetentionPolicy, dropped?: (stream: Stream, rule: string, entries: number) => void): number {
    const n = this.memory.purgeStreams(now, policy, dropped)
    this.disk.purge(now - policy.longestMs * 1000).catch(() => {})
    return n
  }

  setDeletions (deletions: Deletions): void {
    this.memory.setDeletions(deletions)
  }

  close (): void {
    this.disk.close()
  }
}

/** A log write or sync that failed, as the coded refusal a client gets; anything else is a bug and stays as it is. */
function refusal (err: unknown): unknown {
  if (!(err instanceof WalError)) return err
  return new StoreWriteError(err.full ? 'LOGAGG_ERR_DISK_FULL' : 'LOGAGG_ERR_DISK_FAILED', err.message)
}
