import { DiskFullError, QueryTimeoutError, QueueFullError, StoreFullError, retryAfter } from '../errors.js'
import type { Window } from '../ingest/entry.js'
import { shardText, type Body, type ShardLines } from '../ingest/ndjson.js'
import type { LogRecord } from '../ingest/record.js'
import type { LabelMatcher } from '../logql/ast.js'
import type { QueryPart, Rejected, ServiceStats, ShardInit, ShardQuery, StreamStats } from '../protocol.js'
import { shardOf } from './hash.js'
import { TailManager } from './tail-manager.js'
import { singleService } from '../logql/match.js'
import { ShardClient, type ShardClientOptions } from './shard-client.js'
import { NO_METER, type Meter, type Protocol, type QueryRoute, type RefusalReason } from '../metrics/meter.js'

/** A query as the front thread sends it, before it is split by shard and given its id and budget. */
export type RouterQuery = Omit<ShardQuery, 'id' | 'deadline' | 'maxScan' | 'maxBytes'>

/**
 * Bytes an incoming entry is counted as until its shard reports what it
 * really holds: the message and attributes plus what an open-block entry
 * costs. Sealed, an entry costs less (its block is compressed).
 */
const INCOMING_ENTRY_BYTES = 64

/** Ingest answers 507 once a shard's V8 heap is this full, well before the shard would die at its limit. */
const HEAP_FULL = 0.8

/** What became of the records of one ingest call. */
export interface IngestResult {
  /** Indexes (into the records given) refused because their shard holds its share of MAX_SERVICES. */
  full: number[]
}

export interface RouterLimits {
  /** Entries that may wait for one shard (queued or in flight) before ingest answers 429. */
  queueLimit: number
  /** Entries the whole store may hold before ingest answers 507. */
  maxEntries: number
  /** Estimated bytes the whole store may hold before ingest answers 507. */
  maxMemory: number
  /** ms a query may take. */
  queryTimeout: number
  /** Entries one shard may examine for one query. */
  queryMaxScan: number
  /** Rendered bytes of one page at most (MAX_PAGE_BYTES). */
  maxPageBytes: number
  /** Entries a live tail may have waiting on one shard between polls (TAIL_BUFFER). */
  tailBuffer: number
  /** Rendered bytes a live tail may have waiting on one shard between polls (TAIL_BUFFER_BYTES). */
  tailBufferBytes: number
  /** Live tails open at once (MAX_TAILS). */
  maxTails: number
  /** With DATA_DIR: bytes of log and block files before ingest answers 507 (MAX_DISK); Infinity without. */
  maxDisk: number
}

/** How often the front asks idle shards what they hold, so room freed by purge is seen. */
const USAGE_POLL_MS = 1000

/**
 * Owns the N shards: routes each service to its shard by hash, hands out the
 * arrival sequence numbers, admits or refuses ingest against the queue and
 * memory limits, and fans queries out to the shards involved.
 */
export class ShardRouter {
  readonly shards: ShardClient[]
  /** Live tails: matched on the shards, polled and merged here. */
  readonly tails: TailManager
  private nextSeq = 1
  private nextQueryId = 1
  private readonly poll: NodeJS.Timeout
  ready = false

  constructor (
    count: number,
    init: Omit<ShardInit, 'shard'>,
    private readonly limits: RouterLimits,
    options: ShardClientOptions = {},
    /** Counts what is stored, rejected and refused, and each query (for /metrics). */
    readonly meter: Meter = NO_METER
  ) {
    this.shards = Array.from({ length: count }, (_, shard) => new ShardClient({ ...init, shard }, options))
    this.tails = new TailManager(this.shards, { entries: limits.tailBuffer, bytes: limits.tailBufferBytes }, limits.maxTails)
    this.poll = setInterval(() => { for (const s of this.shards) s.stats().catch(() => {}) }, USAGE_POLL_MS).unref()
  }

  async start (): Promise<void> {
    await Promise.all(this.shards.map((s) => s.whenReady()))
    // Number on above every entry the shards brought back from DATA_DIR, so cursors keep their order.
    for (const s of this.shards) this.nextSeq = Math.max(this.nextSeq, (s.recovery?.maxSeq ?? 0) + 1)
    this.ready = true
  }

  /** True when every shard has a live worker. */
  get healthy (): boolean {
    return this.ready && this.shards.every((s) => s.state === 'ready')
  }

  shardFor (service: string): ShardClient {
    return this.shards[shardOf(service, this.shards.length)]!
  }

  /**
   * Stores validated records: all are admitted or none (429 when a shard's
   * queue is full, 507 when the store is full), then each goes to its shard.
   * Settles once every shard involved has stored its part.
   */
  async ingest (records: readonly LogRecord[], protocol: Protocol): Promise<IngestResult> {
    const shards = this.shards
    const perShard: LogRecord[][] = shards.map(() => [])
    const seqs: number[][] = shards.map(() => [])
    const where: number[][] = shards.map(() => [])
    let chars = 0
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const shard = shardOf(r.service, shards.length)
      perShard[shard]!.push(r)
      seqs[shard]!.push(this.nextSeq + i)
      where[shard]!.push(i)
      chars += r.message.length
      if (r.attributes !== null) for (const a of r.attributes) chars += a.length
    }
    this.admit(perShard.map((list) => list.length), records.length, chars, protocol)
    this.nextSeq += records.length
    const sends: Array<Promise<number[]>> = []
    perShard.forEach((list, shard) => {
      if (list.length === 0) return
      const at = where[shard]!
      sends.push(shards[shard]!.enqueue(list, seqs[shard]!).then((full) => full.map((k) => at[k]!)))
    })
    const full = (await Promise.all(sends)).flat().sort((a, b) => a - b)
    this.meter.stored(protocol, records.length - full.length)
    if (full.length > 0) this.meter.rejected(protocol, 'max_services', full.length)
    return { full }
  }

  /**
   * Sends NDJSON lines (or JSON array elements), already routed by service,
   * for the shards to parse and store; admitted all or none like ingest().
   * Each shard gets a text of its own lines only. A line's seq number is
   * taken from its index, so arrival order holds across shards too.
   */
  async ingestLines (body: Body, perShard: readonly ShardLines[], window: Window, protocol: Protocol): Promise<{ rejected: Rejected[], rejectedCount: number, misrouted: number[], full: number[] }> {
    let count = 0
    let chars = 0
    for (const share of perShard) {
      count += share.starts.length
      chars += share.chars
    }
    this.admit(perShard.map((share) => share.starts.length), count, chars, protocol)
    const base = this.nextSeq
    let top = 0
    const sends: Array<Promise<{ count: number, rejected: Rejected[], rejectedCount: number, misrouted: number[], full: number[] }>> = []
    perShard.forEach((share, shard) => {
      const n = share.indexes.length
      if (n === 0) return
      const seq = new Float64Array(n)
      for (let i = 0; i < n; i++) seq[i] = base + share.indexes[i]!
      top = Math.max(top, share.indexes[n - 1]! + 1)
      const own = shardText(body, share)
      sends.push(this.shards[shard]!.ingestLines({
        text: own.text,
        starts: own.starts,
        ends: own.ends,
        index: Uint32Array.from(share.indexes),
        seq,
        oldest: window.oldest,
        newest: window.newest
      }, share.chars))
    })
    this.nextSeq = base + top
    const replies = await Promise.all(sends)
    let stored = 0
    let invalid = 0
    let full = 0
    for (const r of replies) {
      stored += r.count
      invalid += r.rejectedCount
      full += r.full.length
    }
    this.meter.stored(protocol, stored)
    if (invalid > 0) this.meter.rejected(protocol, 'invalid', invalid)
    if (full > 0) this.meter.rejected(protocol, 'max_services', full)
    return {
      rejected: replies.flatMap((r) => r.rejected),
      rejectedCount: invalid,
      misrouted: replies.flatMap((r) => r.misrouted),
      full: replies.flatMap((r) => r.full)
    }
  }

  private admit (perShard: number[], count: number, chars: number, protocol: Protocol): void {
    const refuse = (status: 429 | 507, reason: RefusalReason, err: Error): Error => {
      this.meter.refused(status, reason)
      this.meter.rejected(protocol, status === 429 ? 'queue_full' : 'store_full', count)
      return err
    }
    const incomingBytes = count * INCOMING_ENTRY_BYTES + chars
    let heldEntries = 0
    let heldBytes = 0
    for (let i = 0; i < perShard.length; i++) {
      const shard = this.shards[i]!
      heldEntries += shard.usage.entries + shard.pendingEntries
      heldBytes += shard.usage.bytes + shard.pendingEntries * INCOMING_ENTRY_BYTES + shard.pendingChars
      if (perShard[i]! === 0) continue
      // A request larger than the whole queue still goes through when the queue is empty.
      if (shard.pendingEntries > 0 && shard.pendingEntries + perShard[i]! > this.limits.queueLimit) {
        throw refuse(429, 'queue_full', retryAfter(new QueueFullError(`shard ${i} has ${shard.pendingEntries} entries waiting to be stored (QUEUE_LIMIT is ${this.limits.queueLimit}); slow down and retry after the Retry-After delay`), 1))
      }
      const { heapUsed, heapLimit } = shard.usage
      if (heapUsed > heapLimit * HEAP_FULL) {
        throw refuse(507, 'shard_heap', retryAfter(new StoreFullError(`shard ${i} is using ${Math.round(heapUsed / 1048576)} MiB of its ${Math.round(heapLimit / 1048576)} MiB heap; room comes back as old entries pass the retention window (raise MAX_MEMORY to give shards more)`), 60))
      }
    }
    if (heldEntries + count > this.limits.maxEntries) {
      throw refuse(507, 'max_entries', retryAfter(new StoreFullError(`the store is full: it holds ${heldEntries} entries and MAX_ENTRIES is ${this.limits.maxEntries}; room comes back as old entries pass the retention window`), 60))
    }
    if (this.limits.maxDisk < Infinity) {
      let disk = 0
      for (const shard of this.shards) disk += shard.usage.disk?.bytes ?? 0
      if (disk + incomingBytes > this.limits.maxDisk) {
        const mib = (n: number): number => Math.round(n / 1048576)
        throw retryAfter(new DiskFullError(`DATA_DIR holds ${mib(disk)} MiB of log and block files and MAX_DISK is ${mib(this.limits.maxDisk)} MiB; room comes back as old entries pass the retention window (or raise MAX_DISK)`), 60)
      }
    }
    if (heldBytes + incomingBytes > this.limits.maxMemory) {
      const mib = (n: number): number => Math.round(n / 1048576)
      throw refuse(507, 'max_memory', retryAfter(new StoreFullError(`the store is full: it holds about ${mib(heldBytes)} MiB and MAX_MEMORY is ${mib(this.limits.maxMemory)} MiB; room comes back as old entries pass the retention window`), 60))
    }
  }

  /**
   * Runs `q` on every shard that may hold matches; each part comes back
   * sorted. When `signal` aborts (the client left), the shards stop the query.
   */
  async query (q: RouterQuery, route: QueryRoute, signal?: AbortSignal): Promise<QueryPart[]> {
    const started = performance.now()
    const deadline = Date.now() + this.limits.queryTimeout
    // One more than the limit, so the merge can tell whether another page exists.
    const perShard = { ...q, id: this.nextQueryId++, limit: q.limit + 1, deadline, maxScan: this.limits.queryMaxScan, maxBytes: this.limits.maxPageBytes }
    // When the client leaves, or one shard's part fails (so the page cannot be
    // made), every shard still running the query is told to stop.
    const stop = new AbortController()
    const onAbort = (): void => stop.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const run = (shard: ShardClient, query: ShardQuery): Promise<QueryPart> => shard.query(query, stop.signal).catch((err: unknown) => {
      stop.abort()
      throw err
    })
    let parts: Promise<QueryPart[]>
    if (q.services === null) {
      parts = Promise.all(this.shards.map((s) => run(s, perShard)))
    } else {
      const byShard = new Map<ShardClient, string[]>()
      for (const service of new Set(q.services)) {
        const shard = this.shardFor(service)
        const list = byShard.get(shard)
        if (list === undefined) byShard.set(shard, [service])
        else list.push(service)
      }
      parts = Promise.all([...byShard].map(([shard, services]) => run(shard, { ...perShard, services })))
    }
    // The shards stop on their own at the deadline; this also covers time spent queued behind other work.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new QueryTimeoutError(`the query did not finish within QUERY_TIMEOUT (${this.limits.queryTimeout} ms); narrow the time range or name services`)), this.limits.queryTimeout + 50)
    })
    try {
      const done = await Promise.race([parts, timeout])
      let scanned = 0
      for (const part of done) scanned += part.scanned
      this.meter.queried(route, (performance.now() - started) / 1000, scanned)
      return done
    } catch (err) {
      stop.abort()
      throw err
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Up to `limit` services after `after`, in name order, and whether more exist. */
  async services (after: string | null, limit: number): Promise<{ services: ServiceStats[], more: boolean }> {
    const parts = await Promise.all(this.shards.map((s) => s.services(after, limit + 1)))
    const all = parts.flatMap((p) => p.services).sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
    // Each shard lists limit + 1 when it has that many, so more than `limit` in all means another page.
    const more = all.length > limit
    return { services: all.slice(0, limit), more }
  }

  /**
   * The streams of every shard with entries between start and end that the
   * selector matches; `more` when some shard had more than `limit`.
   */
  async streams (start: number, end: number, selector: LabelMatcher[] | null, limit: number): Promise<{ streams: StreamStats[], more: boolean }> {
    const service = singleService(selector)
    const shards = service === null ? this.shards : [this.shardFor(service)]
    const parts = await Promise.all(shards.map((s) => s.streams(start, end, selector, limit)))
    return { streams: parts.flatMap((p) => p.streams), more: parts.some((p) => !p.complete) }
  }

  /** Entries stored across all shards, as they last reported. */
  get storedEntries (): number {
    let n = 0
    for (const s of this.shards) n += s.usage.entries
    return n
  }

  async close (): Promise<void> {
    this.ready = false
    clearInterval(this.poll)
    this.tails.close()
    await Promise.all(this.shards.map((s) => s.close()))
  }
}
