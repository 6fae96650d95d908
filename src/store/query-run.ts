import type { Lent, QueryPart, ShardQuery } from './shard-messages.js'
import { RENDERERS } from './render/index.js'
import type { EntryRenderer } from './render/renderer.js'
import type { Budget } from './budget.js'
import { compileSelection, type CompiledSelection } from '../logql/match.js'
import { entryFilter, selectionFilter, type EntryFilter } from './filter.js'
import { MetricSink } from './metric-sink.js'
import { CursorHeap, YIELD, cursorsOf, type Bound, type Cursor } from './scan.js'
import type { QueryRun } from './store.js'
import { slotOf, type Stream, type StreamSlot } from './stream.js'
import { ownerTest } from '../core/hash.js'
import { FAKE_TENANT } from '../tenants/tenant-id.js'
import type { Deletions } from './deletions.js'

/** What a query reads from the store: the slots in a range and the stream-slots in one. */
export interface SlotIndex {
  slotIdsBetween (from: number, to: number, descending: boolean): number[]
  partsIn (id: number, services: string[] | null): StreamSlot[]
  /** Delete requests in force (deletions.ts): their entries are never read. */
  readonly deletions?: Deletions
}

/**
 * Where a part's arrays are made, all in one run of `bytes`: memory of its
 * own, or memory a transport lends (the worker transport's, shared with the front).
 */
export type PartMemory = (bytes: number) => { buffer: ArrayBufferLike, at: number, lent: Lent | null }

/** A part in a new buffer of its own. */
export const ownMemory: PartMemory = (bytes) => ({ buffer: new ArrayBuffer(bytes), at: 0, lent: null })

/** One query in progress: the slots still to read and the heap of the current one. */
export class Query implements QueryRun {
  readonly renderer: EntryRenderer
  readonly ts: number[] = []
  readonly seq: number[] = []
  complete = true
  private heap: CursorHeap | null = null
  private slotAt = 0
  private readonly slotIds: number[]
  private readonly lo: Bound
  private readonly hi: Bound
  private readonly filter: EntryFilter
  /** The query's tenants and its LogQL selection's stream test, remembered per stream. */
  private readonly streamTest: (stream: Stream) => boolean
  /** Counts entries instead of returning them, for a metric query. */
  private readonly metric: MetricSink | null
  /** For a metric query: counts the entry a cursor is on. */
  private readonly count: ((c: Cursor) => void) | null

  constructor (private readonly store: SlotIndex, private readonly q: ShardQuery, readonly budget: Budget, cutoff: number) {
    this.filter = entryFilter(q.contains, q.attrs)
    // Only the query's tenants' streams, whatever else it selects (tenants/tenant-id.ts).
    const tenants = q.tenants ?? [FAKE_TENANT]
    const only = tenants.length === 1 ? tenants[0] : null
    const ofTenant = only !== null ? (stream: Stream) => stream.tenant === only : (stream: Stream) => tenants.includes(stream.tenant)
    let selected = ofTenant
    if (q.select !== undefined) {
      const compiled: CompiledSelection = compileSelection(q.select)
      if (compiled.entry !== null) this.filter = selectionFilter(this.filter, compiled.entry)
      selected = (stream) => ofTenant(stream) && compiled.stream((name) => stream.labelValue(name))
    }
    if (store.deletions !== undefined) this.filter = store.deletions.filter(this.filter)
    const seen = new Map<Stream, boolean>()
    this.streamTest = (stream) => {
      let ok = seen.get(stream)
      if (ok === undefined) seen.set(stream, ok = selected(stream))
      return ok
    }
    if (q.partitions !== undefined) {
      const owned = ownerTest(q.partitions)
      const inner = this.streamTest
      const seen = new Map<Stream, boolean>()
      this.streamTest = (stream) => {
        let ok = seen.get(stream)
        if (ok === undefined) seen.set(stream, ok = owned(stream.name) && (inner === null || inner(stream)))
        return ok
      }
    }
    this.renderer = RENDERERS[q.format ?? 'native'](q)
    const metric = this.metric = q.metric === undefined ? null : new MetricSink(q.metric)
    this.count = metric === null ? null : (c) => metric.add(c.part.stream, c.view!, c.i)
    const start = Math.max(q.start, cutoff)
    this.lo = q.after !== null && !q.descending && q.after.ts >= start ? q.after : { ts: start, seq: -Infinity }
    this.hi = q.after !== null && q.descending && q.after.ts <= q.end ? q.after : { ts: q.end, seq: Infinity }
    this.slotIds = store.slotIdsBetween(slotOf(this.lo.ts), slotOf(this.hi.ts), q.descending)
  }

  private openSlot (id: number): CursorHeap | null {
    const parts = this.store.partsIn(id, this.q.services)
    const cursors: Cursor[] = []
    for (const part of parts) if (this.streamTest(part.stream)) cursorsOf(part, this.q.descending, this.lo, this.hi, this.filter, this.budget, cursors)
    return cursors.length === 0 ? null : new CursorHeap(cursors, this.q.descending)
  }

  /** Runs until the page is full, the range is done, or the budget asks to yield; true when finished. */
  run (): boolean {
    try {
      return this.step()
    } catch (err) {
      if (err === YIELD) return false
      throw err
    }
  }

  private step (): boolean {
    const { q, budget, renderer } = this
    const { count } = this
    // A metric query has no page to fill: it runs until the range is done.
    const limit = count === null ? q.limit : Infinity
    while (this.ts.length < limit) {
      if (this.heap === null) {
        const id = this.slotIds[this.slotAt++]
        if (id === undefined) return true
        this.heap = this.openSlot(id)
        continue
      }
      const c = this.heap.next()
      if (c === null) {
        this.heap = null
        continue
      }
      if (count !== null) {
        this.heap.drainTop(count, budget)
        if (budget.yieldNow) return false
        continue
      }
      if (renderer.bytes >= q.maxBytes && this.ts.length > 0) {
        this.complete = false
        return true
      }
      renderer.add(c.part.stream, c.view!, c.i)
      this.ts.push(c.ts)
      this.seq.push(c.seq)
      this.heap.pop()
      if (budget.yieldNow) return false
    }
    return true
  }

  resume (): void {
    this.budget.resume()
  }

  /**
   * The answer, its arrays made in one run of `memory`: the order keys, where
   * each entry ends, each entry's label set (grouped Loki answers) and the
   * bytes, copied once from the renderer's scratch space.
   */
  part (memory: PartMemory = ownMemory): QueryPart {
    const rendered = this.renderer.finish()
    const n = this.ts.length
    const of = rendered.streams?.of
    const { body } = rendered
    // Float64 columns first, so each array starts aligned for its type.
    const { buffer, at, lent } = memory(n * (of === undefined ? 20 : 24) + body.length)
    const ts = new Float64Array(buffer, at, n)
    ts.set(this.ts)
    const seq = new Float64Array(buffer, at + 8 * n, n)
    seq.set(this.seq)
    const ends = new Uint32Array(buffer, at + 16 * n, n)
    ends.set(rendered.ends)
    let next = at + 20 * n
    const part: QueryPart = { ts, seq, ends, body: EMPTY, complete: this.complete, scanned: this.budget.spent }
    if (of !== undefined) {
      const table = new Uint32Array(buffer, next, n)
      table.set(of)
      next += 4 * n
      part.streams = { labels: rendered.streams!.labels, of: table }
    }
    part.body = new Uint8Array(buffer, next, body.length)
    part.body.set(body)
    this.renderer.release()
    if (lent !== null) part.lent = lent
    if (this.metric !== null) part.series = this.metric.finish()
    return part
  }
}

const EMPTY = new Uint8Array(0)
