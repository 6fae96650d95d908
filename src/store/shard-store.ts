import type { EntrySink } from '../ingest/shard-ingest.js'
import { sortPairs, streamKey } from '../ingest/record.js'
import type { LabelMatcher } from '../logql/ast.js'
import { selectorTest } from '../logql/match.js'
import type { QueryPart, ServiceStats, ShardQuery, StreamStats } from './shard-messages.js'
import type { Pairs } from './block.js'
import { Budget } from './budget.js'
import type { BlockCodec } from './codec/block-codec.js'
import { DEFAULT_CODEC } from './codec/registry.js'
import { Query, type SlotIndex } from './query-run.js'
import type { SealedBlock } from './sealed-block.js'
import { TailHub } from './tail-hub.js'
import type { RetentionPolicy } from './retention.js'
import { NO_DELETIONS, type Deletions } from './deletions.js'
import type { MemoryStore } from './store.js'
import { SLOT_US, STREAM_SLOT_BYTES, Stream, TENANT_LABEL, slotOf, type StreamSlot } from './stream.js'
import { FAKE_TENANT, TENANT_SEP, storedService } from '../tenants/tenant-id.js'

// Everything one shard owns: its streams, their blocks, and the slot index
// that lets a query over every stream look only at the streams active in the
// time it reads. Plain code with no thread or timer in it: the shard handler
// drives it, and unit tests drive it directly, passing `now`.
//
//   streams:  key → Stream        services: name → its streams
//   slots:    slot id → the stream-slots with entries in that slot (slot ids sorted in slotIds)

export interface StoreLimits {
  /** Services this shard may hold; entries of new ones past it are refused. */
  maxServices: number
  /** Rendered bytes this shard may hold for all its live tails (TAIL_SHARD_BYTES); unbounded when left out. */
  tailBytes?: number
  /** Seals new blocks (BLOCK_CODEC); blocks already sealed keep the codec they were written with. Default: registry.ts's. */
  codec?: BlockCodec
}

/** How long the open blocks of a slot that its stream has moved past wait for late entries before they are sealed. */
const MOVED_ON_IDLE_MS = 1000

export class ShardStore implements MemoryStore, SlotIndex {
  readonly streams = new Map<string, Stream>()
  readonly tail: TailHub
  readonly services = new Map<string, Stream[]>()
  private readonly slots = new Map<number, StreamSlot[]>()
  private slotIds: number[] = []
  /** Stream-slots with an open block, for sealing idle ones. */
  private readonly open = new Set<StreamSlot>()
  private sortedServices: string[] | null = []
  /** Stream-slots that took entries since the last takeUnpersisted(); null while nothing is persisted. */
  private dirty: Set<StreamSlot> | null = null
  /** Delete requests in force: their entries are not read (deletions.ts). */
  deletions: Deletions = NO_DELETIONS
  entries = 0
  bytes = 0
  /** The largest sequence number ever stored here, so a restarted front numbers on above it. */
  maxSeq = 0
  /** Memory only: no data folder (DurableStore has one). */
  readonly diskUsage = null
  readonly recovery = null

  get serviceCount (): number { return this.services.size }
  get streamCount (): number { return this.streams.size }

  constructor (private readonly limits: StoreLimits = { maxServices: Infinity }) {
    this.tail = new TailHub(limits.tailBytes)
  }

  /**
   * The stream for `ref`, made if need be; null when it would be a new service
   * past the limit (`force`: never, for entries acknowledged before).
   */
  streamFor (service: string, labels: Pairs, force = false): Stream | null {
    const key = streamKey(service, labels)
    let stream = this.streams.get(key)
    if (stream !== undefined) return stream
    let siblings = this.services.get(service)
    if (siblings === undefined) {
      if (this.services.size >= this.limits.maxServices && !force) return null
      this.services.set(service, siblings = [])
      this.sortedServices = null
    }
    stream = new Stream(key, service, labels, this.limits.codec ?? DEFAULT_CODEC)
    siblings.push(stream)
    this.streams.set(key, stream)
    this.bytes += stream.bytes
    return stream
  }

  setDeletions (deletions: Deletions): void {
    this.deletions = deletions
  }

  /** Runs `fill` with a sink that stores each entry it is given at once (see LogStore.ingest). */
  ingest<R> (fill: <S>(sink: EntrySink<S>) => R): R {
    const now = Date.now()
    const sink: EntrySink<Stream> = {
      streamFor: (service, labels) => this.streamFor(service, labels),
      put: (stream, ts, seq, message, attrs) => this.add(stream, ts, seq, message, attrs, now)
    }
    return fill(sink)
  }

  holds (stream: Stream): boolean {
    return this.streams.get(stream.key) === stream
  }

  /** Stores one entry of `stream`, which must be one of this store's streams. */
  add (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null, now: number): void {
    const part = this.partOf(stream, slotOf(ts))
    this.bytes += part.add(ts, seq, message, attrs, now)
    if (part.hasOpen) this.open.add(part)
    this.dirty?.add(part)
    if (seq > this.maxSeq) this.maxSeq = seq
    stream.entries++
    this.entries++
    if (this.tail.active) this.tail.offer(stream, ts, seq, message, attrs)
  }

  /** The stream-slot of `stream` for slot `id`; a new one is entered in the slot index. */
  private partOf (stream: Stream, id: number): StreamSlot {
    const [part, made] = stream.atOrNew(id)
    if (made) {
      let list = this.slots.get(id)
      if (list === undefined) {
        this.slots.set(id, list = [])
        this.insertSlotId(id)
      }
      list.push(part)
      this.bytes += STREAM_SLOT_BYTES
    }
    return part
  }

  private insertSlotId (id: number): void {
    const ids = this.slotIds
    let i = ids.length
    while (i > 0 && ids[i - 1]! > id) i--
    ids.splice(i, 0, id)
  }

  /** From now on, remembers which stream-slots took entries, for takeUnpersisted(). */
  trackUnpersisted (): void {
    this.dirty ??= new Set()
  }

  /**
   * Seals the open blocks of every stream-slot that took entries since the
   * last call and returns every sealed block not yet in a block file.
   */
  takeUnpersisted (): Array<{ part: StreamSlot, late: boolean, block: SealedBlock }> {
    const out: Array<{ part: StreamSlot, late: boolean, block: SealedBlock }> = []
    if (this.dirty === null) return out
    for (const part of this.dirty) {
      this.bytes += part.sealHead() + part.sealLate()
      this.open.delete(part)
      const chain = part.chain
      let k = chain.length
      while (k > 0 && chain[k - 1]!.location === null) k--
      for (; k < chain.length; k++) out.push({ part, late: false, block: chain[k]! })
      for (const block of part.late) if (block.location === null) out.push({ part, late: true, block })
    }
    this.dirty.clear()
    return out
  }

  /** Every sealed block held, slot by slot (bench/codecs.ts measures codecs on them). */
  * sealedBlocks (): Generator<SealedBlock> {
    for (const id of this.slotIds) {
      for (const part of this.slots.get(id)!) {
        yield * part.chain
        yield * part.late
      }
    }
  }

  /** Marks stream-slots as holding blocks not yet in a block file again (a checkpoint failed). */
  markUnpersisted (parts: Iterable<StreamSlot>): void {
    if (this.dirty === null) return
    for (const part of parts) if (part.stream.slots.includes(part)) this.dirty.add(part)
  }

  /**
   * Lets go of the data of blocks that are in block files, oldest slots
   * first: every such block whose entries are all older than `before` (epoch
   * µs), and more while the store holds over `targetBytes`. Queries read them
   * from their files. Returns the bytes let go.
   */
  evictCold (before: number, targetBytes: number): number {
    const start = this.bytes
    for (const id of this.slotIds) {
      // A slot that starts at or after `before` holds no block older than it.
      const recent = id * SLOT_US >= before
      if (recent && this.bytes <= targetBytes) break
      for (const part of this.slots.get(id)!) {
        for (const block of part.chain) if (block.maxTs < before || this.bytes > targetBytes) this.bytes += block.evict()
        for (const block of part.late) if (block.maxTs < before || this.bytes > targetBytes) this.bytes += block.evict()
      }
    }
    return start - this.bytes
  }

  /** Adds a block read from a block file (at start), of a stream made if need be. */
  loadBlock (service: string, labels: Pairs, slot: number, late: boolean, block: SealedBlock): void {
    const stream = this.streamFor(service, labels, true)!
    const part = this.partOf(stream, slot)
    part.load(block, late)
    this.bytes += block.bytes
    stream.entries += block.n
    this.entries += block.n
  }

  /** Slot ids from `from` to `to` (inclusive) that hold anything, in scan order. */
  slotIdsBetween (from: number, to: number, descending: boolean): number[] {
    const out = this.slotIds.filter((id) => id >= from && id <= to)
    return descending ? out.reverse() : out
  }

  /** The stream-slots of slot `id`, of every stream or of the named services. */
  partsIn (id: number, services: string[] | null): StreamSlot[] {
    if (services === null) return this.slots.get(id) ?? []
    const out: StreamSlot[] = []
    for (const name of services) {
      for (const stream of this.services.get(name) ?? []) {
        const part = stream.at(id)
        if (part !== undefined) out.push(part)
      }
    }
    return out
  }

  /** Starts a query; run() it (again after each yield) and then take its part(). */
  query (q: ShardQuery, cutoff = -Infinity, sliceMs = Infinity): Query {
    return new Query(this, q, new Budget(q.maxScan ?? Infinity, q.deadline ?? Infinity, sliceMs), cutoff)
  }

  /** Runs a query to the end in one go (tests, and callers that need no yielding). */
  queryAll (q: ShardQuery, cutoff = -Infinity): QueryPart {
    const query = this.query(q, cutoff)
    while (!query.run()) query.resume()
    return query.part()
  }

  /**
   * The streams of `tenants` with entries between start and end that `selector` matches; across
   * several tenants each stream's labels carry its `__tenant_id__` (as Loki's answers do).
   */
  listStreams (start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants: readonly string[] = [FAKE_TENANT]): { streams: StreamStats[], complete: boolean } {
    const selected = selectorTest(selector ?? [])
    const first = slotOf(start)
    const last = slotOf(end)
    const streams: StreamStats[] = []
    const across = tenants.length > 1
    for (const stream of this.streams.values()) {
      if (!tenants.includes(stream.tenant)) continue
      if (!selected((name) => stream.labelValue(name))) continue
      let entries = 0
      let bytes = 0
      let blocks = 0
      for (const slot of stream.slots) {
        if (slot.slot < first || slot.slot > last) continue
        for (const b of slot.blocks()) {
          if (b.maxTs < start || b.minTs > end) continue
          entries += b.n
          bytes += b.bytes
          blocks++
        }
      }
      if (entries === 0) continue
      if (streams.length === limit) return { streams, complete: false }
      const labels = ['service', stream.name, ...stream.labels]
      if (across) labels.push(TENANT_LABEL, stream.tenant)
      streams.push({ labels: sortPairs(labels), entries, bytes, blocks })
    }
    return { streams, complete: true }
  }

  /**
   * Up to `limit` services of `tenant` after `after` in name order (names as their senders gave
   * them); complete when there are no more. A tenant's stored names share its prefix, so they sit
   * together in the sorted list; tenant fake's are the names without one.
   */
  listServices (after: string | null, limit: number, tenant: string = FAKE_TENANT): { services: ServiceStats[], complete: boolean } {
    this.sortedServices ??= [...this.services.keys()].sort()
    const names = this.sortedServices
    const prefix = storedService(tenant, '')
    const from = after === null ? prefix : storedService(tenant, after)
    let i = 0
    let hi = names.length
    while (i < hi) {
      const mid = (i + hi) >>> 1
      if (after === null ? names[mid]! < from : names[mid]! <= from) i = mid + 1
      else hi = mid
    }
    const mine = tenant === FAKE_TENANT ? (n: string) => !n.includes(TENANT_SEP) : (n: string) => n.startsWith(prefix)
    const services: ServiceStats[] = []
    for (; i < names.length; i++) {
      const name = names[i]!
      if (!mine(name)) {
        // Past this tenant's run of names; tenant fake's are spread between the others'.
        if (tenant !== FAKE_TENANT) break
        continue
      }
      if (services.length === limit) return { services, complete: false }
      let count = 0
      let oldest = Infinity
      let newest = -Infinity
      for (const s of this.services.get(name) ?? []) {
        count += s.entries
        oldest = Math.min(oldest, s.oldest)
        newest = Math.max(newest, s.newest)
      }
      if (count > 0) services.push({ service: name.slice(prefix.length), count, oldest, newest })
    }
    return { services, complete: true }
  }

  /** Nothing to do in memory only besides sealing (sealIdle). */
  maintain (): void {}

  /**
   * Seals open blocks that took no entry for `idleMs`, or for `movedOnMs` when
   * their stream has entries in a later slot already (a backfill or a replay
   * moves through slots in seconds: their blocks would stay open, uncompressed,
   * for as long as the idle wait); returns how many were sealed.
   */
  sealIdle (now: number, idleMs: number, movedOnMs = Math.min(idleMs, MOVED_ON_IDLE_MS)): number {
    let sealed = 0
    for (const part of this.open) {
      const slots = part.stream.slots
      const wait = slots[slots.length - 1] !== part ? movedOnMs : idleMs
      if (part.head !== null && now - part.head.touched >= wait) {
        this.bytes += part.sealHead()
        sealed++
      }
      if (part.lateOpen !== null && now - part.lateOpen.touched >= wait) {
        this.bytes += part.sealLate()
        sealed++
      }
      if (!part.hasOpen) this.open.delete(part)
    }
    return sealed
  }

  /**
   * Drops every block whose entries are all older than `cutoff` (epoch µs),
   * and the slots, streams and services left empty. Returns the entries dropped.
   */
  purge (cutoff: number): number {
    return this.purgeWith(slotOf(cutoff), () => cutoff)
  }

  /**
   * Drops, stream by stream, the blocks past the period `policy` gives each
   * stream at `now` (epoch µs; retention.ts), and what is left empty;
   * `dropped` is told each stream's entries and the rule. Returns the entries dropped.
   */
  purgeStreams (now: number, policy: RetentionPolicy, dropped?: (stream: Stream, rule: string, entries: number) => void): number {
    const memo = new Map<Stream, { cutoff: number, rule: string }>()
    const of = (stream: Stream): { cutoff: number, rule: string } => {
      let r = memo.get(stream)
      if (r === undefined) {
        const { periodMs, rule } = policy.of(stream)
        memo.set(stream, r = { cutoff: now - periodMs * 1000, rule })
      }
      return r
    }
    return this.purgeWith(slotOf(now - policy.shortestMs * 1000), (stream) => of(stream).cutoff, dropped === undefined ? undefined : (stream, n) => dropped(stream, of(stream).rule, n))
  }

  private purgeWith (last: number, cutoffOf: (stream: Stream) => number, onDropped?: (stream: Stream, entries: number) => void): number {
    let dropped = 0
    const keep: number[] = []
    for (const id of this.slotIds) {
      const parts = this.slots.get(id)!
      if (id > last) {
        keep.push(id)
        continue
      }
      const left: StreamSlot[] = []
      for (const part of parts) {
        const stream = part.stream
        const gone = part.purge(cutoffOf(stream))
        if (gone.entries > 0) onDropped?.(stream, gone.entries)
        dropped += gone.entries
        this.bytes -= gone.bytes
        part.stream.entries -= gone.entries
        if (part.entries > 0) {
          left.push(part)
          continue
        }
        this.bytes -= STREAM_SLOT_BYTES
        this.open.delete(part)
        this.dirty?.delete(part)
        const slots = part.stream.slots
        slots.splice(slots.indexOf(part), 1)
        if (slots.length === 0) this.dropStream(part.stream)
      }
      if (left.length > 0) {
        this.slots.set(id, left)
        keep.push(id)
      } else {
        this.slots.delete(id)
      }
    }
    this.slotIds = keep
    this.entries -= dropped
    return dropped
  }

  private dropStream (stream: Stream): void {
    this.streams.delete(stream.key)
    this.bytes -= stream.bytes
    const siblings = this.services.get(stream.service)
    if (siblings === undefined) return
    siblings.splice(siblings.indexOf(stream), 1)
    if (siblings.length === 0) {
      this.services.delete(stream.service)
      this.sortedServices = null
    }
  }
}
