import { DiskFullError, QueueFullError, StoreFullError, TooManyQueriesError, retryAfter } from '../core/errors.js'
import type { Meter, Protocol, RefusalReason } from './meter.js'
import type { Shard } from './shard.js'

// Admission: whether the front hands a shard more work. It is counted here,
// on the front, and not in a transport: "entries handed to shard k and not yet
// acknowledged" and "queries sent to shard k and not answered" mean the same
// whether a thread or a network carries them, and the limits they enforce
// (QUEUE_LIMIT → 429, QUERY_CONCURRENCY → 503, MAX_ENTRIES / MAX_MEMORY /
// MAX_DISK → 507) are the server's, named in its settings. What a shard holds
// comes from its own replies (Shard.usage).

/**
 * Bytes an incoming entry is counted as until its shard reports what it
 * really holds: the message and attributes plus what an open-block entry
 * costs. Sealed, an entry costs less (its block is compressed).
 */
const INCOMING_ENTRY_BYTES = 64

/** Ingest answers 507 once a shard's V8 heap is this full, well before the shard would die at its limit. */
const HEAP_FULL = 0.8

export interface AdmissionLimits {
  /** Entries that may wait for one shard (queued or in flight) before ingest answers 429 (QUEUE_LIMIT). */
  queueLimit: number
  /** Entries the whole store may hold before ingest answers 507. */
  maxEntries: number
  /** Estimated bytes the whole store may hold before ingest answers 507. */
  maxMemory: number
  /** With DATA_DIR: bytes of log and block files before ingest answers 507 (MAX_DISK); Infinity without. */
  maxDisk: number
  /** Queries one shard runs at a time; more answer 503 (QUERY_CONCURRENCY). */
  queryConcurrency: number
}

/** What the front has handed one shard and not had answered yet. */
export interface ShardLoad {
  /** Entries handed to the shard and not yet acknowledged by it (queued or in flight). */
  entries: number
  /** Total message and attribute length of those entries. */
  chars: number
  /** Queries sent to the shard and not answered yet (a cancelled one holds its place until answered). */
  queries: number
}

export class Admission {
  readonly load: ShardLoad[]

  constructor (private readonly shards: readonly Shard[], private readonly limits: AdmissionLimits, private readonly meter: Meter) {
    this.load = shards.map(() => ({ entries: 0, chars: 0, queries: 0 }))
  }

  /**
   * Admits an ingest of `count` entries (`perShard[i]` for shard i, `chars`
   * long in all) or throws 429 / 507 for all of them; the caller then counts
   * each shard's share with sent() and done().
   */
  admit (perShard: readonly number[], count: number, chars: number, protocol: Protocol): void {
    const refuse = (status: 429 | 507, reason: RefusalReason, err: Error): Error => {
      this.meter.refused(status, reason)
      this.meter.rejected(protocol, status === 429 ? 'queue_full' : 'store_full', count)
      return err
    }
    const incomingBytes = count * INCOMING_ENTRY_BYTES + chars
    let heldEntries = 0
    let heldBytes = 0
    for (let i = 0; i < perShard.length; i++) {
      const { usage } = this.shards[i]!
      const load = this.load[i]!
      heldEntries += usage.entries + load.entries
      heldBytes += usage.bytes + load.entries * INCOMING_ENTRY_BYTES + load.chars
      if (perShard[i]! === 0) continue
      // A request larger than the whole queue still goes through when the queue is empty.
      if (load.entries > 0 && load.entries + perShard[i]! > this.limits.queueLimit) {
        throw refuse(429, 'queue_full', retryAfter(new QueueFullError(`shard ${i} has ${load.entries} entries waiting to be stored (QUEUE_LIMIT is ${this.limits.queueLimit}); slow down and retry after the Retry-After delay`), 1))
      }
      const { heapUsed, heapLimit } = usage
      if (heapUsed > heapLimit * HEAP_FULL) {
        throw refuse(507, 'shard_heap', retryAfter(new StoreFullError(`shard ${i} is using ${Math.round(heapUsed / 1048576)} MiB of its ${Math.round(heapLimit / 1048576)} MiB heap; room comes back as old entries pass the retention window (raise MAX_MEMORY to give shards more)`), 60))
      }
    }
    if (heldEntries + count > this.limits.maxEntries) {
      throw refuse(507, 'max_entries', retryAfter(new StoreFullError(`the store is full: it holds ${heldEntries} entries and MAX_ENTRIES is ${this.limits.maxEntries}; room comes back as old entries pass the retention window`), 60))
    }
    const mib = (n: number): number => Math.round(n / 1048576)
    if (this.limits.maxDisk < Infinity) {
      let disk = 0
      for (const shard of this.shards) disk += shard.usage.disk?.bytes ?? 0
      if (disk + incomingBytes > this.limits.maxDisk) {
        throw retryAfter(new DiskFullError(`DATA_DIR holds ${mib(disk)} MiB of log and block files and MAX_DISK is ${mib(this.limits.maxDisk)} MiB; room comes back as old entries pass the retention window (or raise MAX_DISK)`), 60)
      }
    }
    if (heldBytes + incomingBytes > this.limits.maxMemory) {
      throw refuse(507, 'max_memory', retryAfter(new StoreFullError(`the store is full: it holds about ${mib(heldBytes)} MiB and MAX_MEMORY is ${mib(this.limits.maxMemory)} MiB; room comes back as old entries pass the retention window`), 60))
    }
  }

  /** Counts entries handed to shard i (admitted first), until done() is called with the same figures. */
  sent (i: number, entries: number, chars: number): void {
    const load = this.load[i]!
    load.entries += entries
    load.chars += chars
  }

  /** The shard acknowledged (or failed) what sent() counted. */
  done (i: number, entries: number, chars: number): void {
    const load = this.load[i]!
    load.entries -= entries
    load.chars -= chars
  }

  /** Takes a query slot on shard i, or throws 503 when QUERY_CONCURRENCY run there; release it once answered. */
  startQuery (i: number): void {
    const load = this.load[i]!
    const cap = this.limits.queryConcurrency
    if (load.queries >= cap) {
      throw retryAfter(new TooManyQueriesError(`shard ${i} is already running ${cap} queries (QUERY_CONCURRENCY); retry in a moment`), 1)
    }
    load.queries++
  }

  endQuery (i: number): void {
    this.load[i]!.queries--
  }
}
