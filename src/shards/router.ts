import { QueryTimeoutError } from '../core/errors.js'
import type { Window } from '../ingest/entry.js'
import { shardText, type Body, type ShardLines } from '../ingest/ndjson.js'
import type { LogRecord } from '../ingest/record.js'
import type { LabelMatcher } from '../logql/ast.js'
import type { QueryPart, Rejected, ServiceStats, ShardQuery, StreamStats } from '../store/shard-messages.js'
import { shardOf } from '../core/hash.js'
import { TailManager } from './tail-manager.js'
import { singleService } from '../logql/match.js'
import { NO_METER, type Meter, type Protocol, type QueryRoute } from './meter.js'
import { Admission, type AdmissionLimits } from './admission.js'
import type { Shard, StoredLines, StoredStreams } from './shard.js'
import type { DecodedStreams } from '../ingest/decoded.js'
import { LocalSeqs, type SeqSource } from './seqs.js'
import { FAKE_TENANT, TENANT_SEP, serviceOfStored, storedService } from '../tenants/tenant-id.js'
import type { TenantLimits } from '../tenants/limits-file.js'
import { TenantBuckets } from '../tenants/rate-limit.js'
import type { EntryLimits } from '../ingest/entry-limits.js'
import { QueryLimitError, RateLimitedError, retryAfter } from '../core/errors.js'

/** A query as the front thread sends it, before it is split by shard and given its id and budget. */
export type RouterQuery = Omit<ShardQuery, 'id' | 'deadline' | 'maxScan' | 'maxBytes'>

/**
 * Where one query's time went (ms), for its Server-Timing header: the round
 * trip to the slowest shard split into the hop there and back and the
 * shard's wall time (of which `runMs` running the query), then the front's
 * stage over the parts.
 */
export interface QueryTiming { hopMs: number, shardMs: number, runMs: number, frontMs: number }

/**
 * How one query may be answered. `partial`: a shard (a cluster partition)
 * that cannot answer (a 503: down, no owner, no quorum, out of time) is left
 * out instead of failing the query, and named in `missing`; every shard then
 * has half of QUERY_TIMEOUT, so the others' parts are in before it runs out.
 */
export interface QueryOptions { partial?: boolean, missing?: number[] }

/** What became of the records of one ingest call. */
export interface IngestResult {
  /** Indexes (into the records given) refused because their shard holds its share of MAX_SERVICES. */
  full: number[]
}

export interface RouterLimits extends AdmissionLimits {
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
}

export interface RouterOptions {
  /** Where sequence numbers come from (default: this router alone counts them). */
  seqs?: SeqSource
  /**
   * This router's front thread (FRONTS), 0 for the first: the ids of its
   * queries and tails are its own on every shard, which other fronts' routers
   * reach too.
   */
  front?: number
  /**
   * What else the server's health depends on besides the shards (cluster
   * mode: the NATS connection), and what /healthz says of it.
   */
  health?: () => { ok: boolean, detail: Record<string, unknown> }
  /** LIMITS_FILE: a tenant's limits as they are now (the file is reloaded); absent or null: no per-tenant limits. */
  limits?: (tenant: string) => TenantLimits | null
  /** This front's share of each tenant's ingestion rate and burst (1 / FRONTS; Loki's global strategy). */
  rateShare?: number
}

/** Ids of one front's queries and tails start at front × this (2^40: a trillion per front, and 8,192 fronts below 2^53). */
const ID_SPACE = 2 ** 40

/** How often the front asks idle shards what they hold, so room freed by purge is seen. */
const USAGE_POLL_MS = 1000

/**
 * Routes each service to its shard by hash (shard i owns hash partition i of
 * N; server.ts tells each shard so), hands out the arrival sequence numbers,
 * admits or refuses work (admission.ts), and fans queries out to the shards
 * involved. It knows shards only through the Shard interface.
 */
export class ShardRouter {
  /** Live tails: matched on the shards, polled and merged here. */
  readonly tails: TailManager
  /** What each shard was handed and has not answered; the queue, store and query limits. */
  readonly admission: Admission
  private readonly seqs: SeqSource
  private nextQueryId: number
  /** The shard each lent part came from, until it is given back (giveBack). */
  private readonly lenders = new WeakMap<QueryPart, Shard>()
  private readonly poll: NodeJS.Timeout
  private readonly health: RouterOptions['health']
  private readonly tenantLimits: (tenant: string) => TenantLimits | null
  private readonly buckets: TenantBuckets
  ready = false

  constructor (
    /** Shard i is the one shardOf() names i. */
    readonly shards: readonly Shard[],
    private readonly limits: RouterLimits,
    /** Counts what is stored, rejected and refused, and each query (for /metrics). */
    readonly meter: Meter = NO_METER,
    options: RouterOptions = {}
  ) {
    this.seqs = options.seqs ?? new LocalSeqs()
    this.health = options.health
    this.tenantLimits = options.limits ?? (() => null)
    this.buckets = new TenantBuckets(options.rateShare ?? 1)
    const ids = (options.front ?? 0) * ID_SPACE + 1
    this.nextQueryId = ids
    this.admission = new Admission(shards, limits, meter)
    this.tails = new TailManager(this.shards, { entries: limits.tailBuffer, bytes: limits.tailBufferBytes }, limits.maxTails, ids)
    this.poll = setInterval(() => { for (const s of this.shards) s.stats().catch(() => {}) }, USAGE_POLL_MS).unref()
  }

  async start (): Promise<void> {
    await Promise.all(this.shards.map((s) => s.whenReady()))
    // Number on above every entry the shards brought back from DATA_DIR, so cursors keep their order.
    for (const s of this.shards) this.seqs.atLeast((s.recovery?.maxSeq ?? 0) + 1)
    this.ready = true
  }

  /** True when every shard has a live worker. */
  get healthy (): boolean {
    return this.ready && this.shards.every((s) => s.state === 'ready') && (this.health?.().ok ?? true)
  }

  /** What /healthz adds besides the status (cluster mode: the instance, NATS, its partitions); null when nothing. */
  healthDetail (): Record<string, unknown> | null {
    return this.health?.().detail ?? null
  }

  /** `tenant`'s limits (LIMITS_FILE), or null without one. */
  limitsOf (tenant: string): TenantLimits | null {
    return this.tenantLimits(tenant)
  }

  /** `tenant`'s limits on one entry, or null without LIMITS_FILE. */
  entryLimitsOf (tenant: string): EntryLimits | null {
    const l = this.tenantLimits(tenant)
    return l === null ? null : { maxLineSize: l.maxLineSize, maxLabelNames: l.maxLabelNamesPerSeries, maxAttributes: l.maxStructuredMetadataEntriesCount }
  }

  /**
   * Takes `chars` from `tenant`'s ingestion bucket, or throws 429 for the whole
   * request (nothing of it is stored): Retry-After says when it would fit.
   */
  private takeRate (tenant: string, chars: number, count: number, protocol: Protocol): void {
    const l = this.tenantLimits(tenant)
    if (l === null) return
    const refused = this.buckets.take(tenant, chars, l.ingestionRateMb, l.ingestionBurstSizeMb)
    if (refused === null) return
    this.meter.refused(429, 'ingestion_rate')
    this.meter.rejected(protocol, 'ingestion_rate', count)
    this.meter.tenantRejected(tenant, 'ingestion_rate', count)
    const limit = `ingestion_rate_mb ${l.ingestionRateMb}, ingestion_burst_size_mb ${l.ingestionBurstSizeMb}${this.buckets.share < 1 ? `, ${Math.round(1 / this.buckets.share)} fronts sharing it` : ''}`
    if (refused.retryAfter === null) {
      throw new RateLimitedError(`this request of ${chars} bytes is larger than tenant ${JSON.stringify(tenant)}'s ingestion burst (${limit}): it can never be taken whole; split it into smaller requests`)
    }
    throw retryAfter(new RateLimitedError(`tenant ${JSON.stringify(tenant)} is over its ingestion rate (${limit}); nothing of this request of ${chars} bytes was stored: retry after the Retry-After delay, or raise the limit in LIMITS_FILE`), refused.retryAfter)
  }

  /** Throws 400 when `q` is past the limits of one of its tenants (max_query_length, max_entries_limit_per_query). */
  private checkQueryLimits (q: RouterQuery, tenants: readonly string[]): void {
    for (const tenant of tenants) {
      const l = this.tenantLimits(tenant)
      if (l === null) continue
      const rangeMs = (q.end - q.start) / 1000
      if (l.maxQueryLengthMs > 0 && rangeMs > l.maxQueryLengthMs) {
        throw new QueryLimitError(`the query's time range (${Math.round(rangeMs / 1000)}s) is longer than tenant ${JSON.stringify(tenant)}'s max_query_length (${l.maxQueryLengthMs / 1000}s); narrow start and end`)
      }
      if (q.metric === undefined && q.limit > l.maxEntriesLimitPerQuery) {
        throw new QueryLimitError(`max entries limit per query exceeded: limit ${q.limit} is more than tenant ${JSON.stringify(tenant)}'s max_entries_limit_per_query (${l.maxEntriesLimitPerQuery}); ask for fewer entries and page`)
      }
    }
  }

  /** The index of the shard that owns `service`. */
  private indexOf (service: string): number {
    return shardOf(service, this.shards.length)
  }

  /**
   * Stores validated records: all are admitted or none (429 when a shard's
   * queue is full, 507 when the store is full), then each goes to its shard.
   * Settles once every shard involved has stored its part; a refusal rejects.
   */
  async ingest (records: readonly LogRecord[], protocol: Protocol, tenant = FAKE_TENANT): Promise<IngestResult> {
    return await this.submit(records, protocol, tenant)
  }

  /**
   * ingest(), but a refusal is thrown at once rather than as a rejection: a
   * caller knows before its next call whether this one was taken (the syslog
   * listener keeps a connection's batches in order that way while several
   * are in flight).
   */
  submit (records: readonly LogRecord[], protocol: Protocol, tenant = FAKE_TENANT): Promise<IngestResult> {
    const shards = this.shards
    const perShard: LogRecord[][] = shards.map(() => [])
    const where: number[][] = shards.map(() => [])
    const charsOf: number[] = shards.map(() => 0)
    let chars = 0
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      // Routed by the service alone, stored under the tenant's name for it (tenants/tenant-id.ts).
      const shard = shardOf(r.service, shards.length)
      perShard[shard]!.push(tenant === FAKE_TENANT ? r : { ...r, service: storedService(tenant, r.service) })
      where[shard]!.push(i)
      let c = r.message.length
      if (r.attributes !== null) for (const a of r.attributes) c += a.length
      charsOf[shard]! += c
      chars += c
    }
    const admission = this.admission
    admission.admit(perShard.map((list) => list.length), records.length, chars, protocol)
    this.takeRate(tenant, chars, records.length, protocol)
    const base = this.seqs.take(records.length)
    const sends: Array<Promise<number[]>> = []
    perShard.forEach((list, shard) => {
      if (list.length === 0) return
      const at = where[shard]!
      const n = list.length
      const c = charsOf[shard]!
      admission.sent(shard, n, c)
      sends.push(shards[shard]!.ingest(list, at.map((i) => base + i)).then(
        (full) => {
          admission.done(shard, n, c)
          return full.map((k) => at[k]!)
        },
        (err: unknown) => {
          admission.done(shard, n, c)
          throw err
        }
      ))
    })
    return Promise.all(sends).then((parts) => {
      const full = parts.flat().sort((a, b) => a - b)
      this.meter.stored(protocol, records.length - full.length)
      this.meter.tenantStored(tenant, records.length - full.length)
      if (full.length > 0) this.meter.rejected(protocol, 'max_services', full.length)
      return { full }
    })
  }

  /**
   * Sends NDJSON lines (or JSON array elements), already routed by service,
   * for the shards to parse and store; admitted all or none like ingest().
   * Each shard gets a text of its own lines only. A line's seq number is
   * taken from its index, so arrival order holds across shards too.
   */
  async ingestLines (body: Body, perShard: readonly ShardLines[], window: Window, protocol: Protocol, tenant = FAKE_TENANT): Promise<{ rejected: Rejected[], rejectedCount: number, misrouted: number[], full: number[] }> {
    let count = 0
    let chars = 0
    for (const share of perShard) {
      count += share.starts.length
      chars += share.chars
    }
    const admission = this.admission
    admission.admit(perShard.map((share) => share.starts.length), count, chars, protocol)
    this.takeRate(tenant, chars, count, protocol)
    const entryLimits = this.entryLimitsOf(tenant)
    // A line's number is base + its index in the body, so numbers go as far as the last line routed.
    let top = 0
    for (const share of perShard) if (share.indexes.length > 0) top = Math.max(top, share.indexes[share.indexes.length - 1]! + 1)
    const base = this.seqs.take(top)
    const sends: Array<Promise<StoredLines>> = []
    perShard.forEach((share, shard) => {
      const n = share.indexes.length
      if (n === 0) return
      const seq = new Float64Array(n)
      for (let i = 0; i < n; i++) seq[i] = base + share.indexes[i]!
      const own = shardText(body, share)
      admission.sent(shard, n, share.chars)
      const done = (): void => admission.done(shard, n, share.chars)
      sends.push(this.shards[shard]!.ingestLines({
        text: own.text,
        starts: own.starts,
        ends: own.ends,
        index: Uint32Array.from(share.indexes),
        seq,
        oldest: window.oldest,
        newest: window.newest,
        ...(tenant === FAKE_TENANT ? {} : { tenant }),
        ...(entryLimits === null ? {} : { entryLimits })
      }).then((stored) => {
        done()
        return stored
      }, (err: unknown) => {
        done()
        throw err
      }))
    })
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
    this.meter.tenantStored(tenant, stored)
    if (invalid > 0) {
      this.meter.rejected(protocol, 'invalid', invalid)
      this.meter.tenantRejected(tenant, 'invalid', invalid)
    }
    if (full > 0) this.meter.rejected(protocol, 'max_services', full)
    return {
      rejected: replies.flatMap((r) => r.rejected),
      rejectedCount: invalid,
      misrouted: replies.flatMap((r) => r.misrouted),
      full: replies.flatMap((r) => r.full)
    }
  }

  /**
   * Sends pushed streams (already checked and routed: DecodedStreams) for
   * the shards to decode and store; admitted all or none like ingest(). Entry
   * k of the request gets sequence number base + k, so order holds across shards.
   */
  async ingestStreams (decoded: DecodedStreams, protocol: Protocol, tenant = FAKE_TENANT): Promise<{ rejected: Rejected[], rejectedCount: number, full: number[] }> {
    const { body, perShard, window, serviceLabels, total, format, arrival } = decoded
    let bytes = 0
    for (const share of perShard) bytes += share.bytes
    const admission = this.admission
    admission.admit(perShard.map((share) => share.entries), total, bytes, protocol)
    this.takeRate(tenant, bytes, total, protocol)
    const entryLimits = this.entryLimitsOf(tenant)
    const seq = this.seqs.take(total)
    const sends: Array<Promise<StoredStreams>> = []
    perShard.forEach((share, shard) => {
      const n = share.entries
      if (n === 0) return
      // This shard's streams, copied out of the body into memory the message can move.
      const own = new Uint8Array(share.bytes)
      const starts = new Uint32Array(share.starts.length)
      const ends = new Uint32Array(share.starts.length)
      let at = 0
      for (let i = 0; i < share.starts.length; i++) {
        own.set(body.subarray(share.starts[i]!, share.ends[i]!), at)
        starts[i] = at
        at += share.ends[i]! - share.starts[i]!
        ends[i] = at
      }
      admission.sent(shard, n, share.bytes)
      const done = (): void => admission.done(shard, n, share.bytes)
      sends.push(this.shards[shard]!.ingestStreams({
        format, bytes: own, starts, ends, first: Uint32Array.from(share.first), ordinals: Uint32Array.from(share.ordinals), arrival, seq, oldest: window.oldest, newest: window.newest, serviceLabels, ...(tenant === FAKE_TENANT ? {} : { tenant }), ...(entryLimits === null ? {} : { entryLimits })
      }).then((stored) => {
        done()
        return stored
      }, (err: unknown) => {
        done()
        throw err
      }))
    })
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
    this.meter.tenantStored(tenant, stored)
    if (invalid > 0) {
      this.meter.rejected(protocol, 'invalid', invalid)
      this.meter.tenantRejected(tenant, 'invalid', invalid)
    }
    if (full > 0) this.meter.rejected(protocol, 'max_services', full)
    return { rejected: replies.flatMap((r) => r.rejected), rejectedCount: invalid, full: replies.flatMap((r) => r.full) }
  }

  /**
   * Runs `q` on every shard that may hold matches; each part comes back
   * sorted. When `signal` aborts (the client left), the shards stop the query.
   * With `q.lend`, parts may be in memory their shards lent: the caller gives
   * them back (giveBack) once nothing reads them.
   */
  async query (q: RouterQuery, route: QueryRoute, signal?: AbortSignal, timing?: QueryTiming, options: QueryOptions = {}): Promise<QueryPart[]> {
    const started = performance.now()
    const partial = options.partial === true
    const deadline = Date.now() + (partial ? Math.floor(this.limits.queryTimeout / 2) : this.limits.queryTimeout)
    // One more than the limit, so the merge can tell whether another page exists.
    const tenants = q.tenants ?? [FAKE_TENANT]
    this.checkQueryLimits(q, tenants)
    const perShard: ShardQuery = { ...q, tenants, id: this.nextQueryId++, limit: q.limit + 1, deadline, maxScan: this.limits.queryMaxScan, maxBytes: this.limits.maxPageBytes }
    // Across tenants, every stream's labels name its tenant, so equal label sets of two tenants stay apart (Loki's __tenant_id__).
    if (tenants.length > 1) {
      if (perShard.loki !== undefined) perShard.loki = { ...perShard.loki, tenantLabel: true }
      if (perShard.metric !== undefined) perShard.metric = { ...perShard.metric, tenantLabel: true }
    }
    // When the client leaves, or one shard's part fails (so the page cannot be
    // made), every shard still running the query is told to stop.
    const stop = new AbortController()
    const onAbort = (): void => stop.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const admission = this.admission
    // A lent part is the caller's to give back once the query answers; if it
    // fails instead (a timeout, another shard's error, the client leaving),
    // the parts that came and any still to come are given back here.
    let failed = false
    const received: QueryPart[] = []
    const lent = (from: Shard, part: QueryPart): void => {
      if (part.lent === undefined) return
      if (failed) return from.release(part)
      this.lenders.set(part, from)
      received.push(part)
    }
    const run = (shard: number, query: ShardQuery): Promise<QueryPart[]> => {
      try {
        admission.startQuery(shard)
      } catch (err) {
        stop.abort()
        return Promise.reject(err)
      }
      // The slot is held until the shard answers, even once cancelled (it stops at its next slice).
      const sent = performance.now()
      const to = this.shards[shard]!
      return to.query(query, stop.signal).then((got) => {
        admission.endQuery(shard)
        for (const part of got) {
          lent(to, part)
          if (timing !== undefined) {
            const wall = part.wallMs ?? 0
            const trip = performance.now() - sent
            if (trip > timing.hopMs + timing.shardMs) Object.assign(timing, { hopMs: trip - wall, shardMs: wall, runMs: part.runMs ?? 0 })
          }
        }
        return got
      }, (err: unknown) => {
        admission.endQuery(shard)
        if (partial && (err as { statusCode?: number }).statusCode === 503 && signal?.aborted !== true) {
          options.missing?.push(shard)
          return []
        }
        stop.abort()
        throw err
      })
    }
    let parts: Promise<QueryPart[][]>
    if (q.services === null) {
      parts = Promise.all(this.shards.map((_, i) => run(i, perShard)))
    } else {
      // Routed by the service, asked for by each tenant's stored name of it.
      const byShard = new Map<number, string[]>()
      for (const service of new Set(q.services)) {
        // A query passed on by another router (a cluster owner's) names stored names already.
        const stored = service.includes(TENANT_SEP)
        const shard = this.indexOf(stored ? serviceOfStored(service) : service)
        const names = stored ? [service] : tenants.map((t) => storedService(t, service))
        const list = byShard.get(shard)
        if (list === undefined) byShard.set(shard, names)
        else list.push(...names)
      }
      parts = Promise.all([...byShard].map(([shard, services]) => run(shard, { ...perShard, services })))
    }
    // The shards stop on their own at the deadline; this also covers time spent queued behind other work.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new QueryTimeoutError(`the query did not finish within QUERY_TIMEOUT (${this.limits.queryTimeout} ms); narrow the time range or name services`)), this.limits.queryTimeout + 50)
    })
    try {
      const done = (await Promise.race([parts, timeout])).flat()
      let scanned = 0
      for (const part of done) scanned += part.scanned
      this.meter.queried(route, (performance.now() - started) / 1000, scanned)
      return done
    } catch (err) {
      stop.abort()
      failed = true
      this.giveBack(received)
      throw err
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Gives back the memory of parts a query let the shards lend (RouterQuery.lend), once nothing reads them; twice is harmless. */
  giveBack (parts: readonly QueryPart[]): void {
    for (const part of parts) {
      const from = this.lenders.get(part)
      if (from === undefined) continue
      this.lenders.delete(part)
      from.release(part)
    }
  }

  /** Up to `limit` services after `after`, in name order, and whether more exist. */
  async services (after: string | null, limit: number, tenant = FAKE_TENANT): Promise<{ services: ServiceStats[], more: boolean }> {
    const parts = await Promise.all(this.shards.map((s) => s.services(after, limit + 1, tenant === FAKE_TENANT ? undefined : tenant)))
    const all = parts.flatMap((p) => p.services).sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
    // Each shard lists limit + 1 when it has that many, so more than `limit` in all means another page.
    const more = all.length > limit
    return { services: all.slice(0, limit), more }
  }

  /**
   * The streams of every shard with entries between start and end that the
   * selector matches; `more` when some shard had more than `limit`.
   */
  async streams (start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants: string[] = [FAKE_TENANT]): Promise<{ streams: StreamStats[], more: boolean }> {
    const service = singleService(selector)
    const shards = service === null ? this.shards : [this.shards[this.indexOf(service)]!]
    const only = tenants.length === 1 && tenants[0] === FAKE_TENANT
    const parts = await Promise.all(shards.map((s) => s.streams(start, end, selector, limit, only ? undefined : tenants)))
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
