import { OrderHeap } from '../core/order-heap.js'
import type { Block, BlockView } from './block.js'
import type { SealedBlock } from './sealed-block.js'
import type { EntryFilter } from './filter.js'
import type { StreamSlot } from './stream.js'

// The lazy merge behind every query. Each stream-slot contributes cursors:
// one over its chain (sealed blocks in order, then the open head) and one per
// late block in range. A cursor that has not opened its block yet stands in
// the heap at a lower bound (the block's first timestamp); only when it comes
// to the top is its block decompressed. So a query opens the blocks it reads
// from and no others, however many streams it spans.

/** A position between entries: ascending scans take entries strictly after lo and strictly before hi. */
export interface Bound { ts: number, seq: number }

/**
 * Counts entries examined and time spent; throws when the query's budget is
 * gone, or YIELD when the scan should give the thread back (the cursor is
 * left on the entry it was about to examine, so the scan resumes there).
 */
export interface ScanBudget {
  spend (): void
}

/** Thrown by a budget to pause a scan; not an error. */
export const YIELD = Symbol('yield')

/** Bisect: first index in v with (ts, seq) > (t, s). */
function firstAfter (v: BlockView, t: number, s: number): number {
  let lo = 0
  let hi = v.n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const mt = v.ts[mid]!
    if (mt < t || (mt === t && v.seq[mid]! <= s)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Bisect: last index in v with (ts, seq) < (t, s), or -1. */
function lastBefore (v: BlockView, t: number, s: number): number {
  let lo = 0
  let hi = v.n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const mt = v.ts[mid]!
    if (mt < t || (mt === t && v.seq[mid]! < s)) lo = mid + 1
    else hi = mid
  }
  return lo - 1
}

export class Cursor {
  /** The current entry when exact; a bound no later (earlier when descending) than it otherwise. */
  ts = 0
  seq = 0
  exact = false
  view: BlockView | null = null
  i = 0
  private bi: number
  private readonly count: number

  constructor (
    readonly part: StreamSlot,
    /** Blocks in time order that do not overlap, then optionally one more (the open head). */
    private readonly chain: readonly SealedBlock[],
    private readonly tail: Block | null,
    private readonly descending: boolean,
    private readonly lo: Bound,
    private readonly hi: Bound,
    private readonly filter: EntryFilter,
    private readonly budget: ScanBudget
  ) {
    this.count = chain.length + (tail === null ? 0 : 1)
    if (descending) {
      // Last block that starts at or before hi.
      let a = 0
      let b = chain.length
      while (a < b) {
        const mid = (a + b) >>> 1
        if (chain[mid]!.minTs <= hi.ts) a = mid + 1
        else b = mid
      }
      this.bi = tail !== null && tail.minTs <= hi.ts ? chain.length : a - 1
    } else {
      // First block that ends at or after lo.
      let a = 0
      let b = chain.length
      while (a < b) {
        const mid = (a + b) >>> 1
        if (chain[mid]!.maxTs < lo.ts) a = mid + 1
        else b = mid
      }
      this.bi = a
    }
    this.bound()
  }

  private block (k: number): Block {
    return k < this.chain.length ? this.chain[k]! : this.tail!
  }

  /** Examines entry i (at ts t) of the open block: true, with the cursor on it, when it passes the filter. */
  private examine (v: BlockView, i: number, t: number): boolean {
    this.i = i
    this.budget.spend()
    if (!this.filter.matches(this.part.stream, v, i)) return false
    this.ts = t
    this.seq = v.seq[i]!
    this.exact = true
    return true
  }

  /** True while there may be entries left. */
  get live (): boolean {
    return this.bi >= 0 && this.bi < this.count
  }

  /** Sets the key to the bound of the current block, or ends the cursor if it is out of range. */
  private bound (): void {
    this.view = null
    this.exact = false
    if (!this.live) return
    const b = this.block(this.bi)
    if (this.descending) {
      if (b.maxTs < this.lo.ts) this.bi = -1
      this.ts = Math.min(b.maxTs, this.hi.ts)
      this.seq = Infinity
    } else {
      if (b.minTs > this.hi.ts) this.bi = this.count
      this.ts = Math.max(b.minTs, this.lo.ts)
      this.seq = -Infinity
    }
  }

  /**
   * Moves to the next entry in range that matches (opening the block if
   * needed), or to the next block's bound. Returns false once nothing is left.
   */
  settle (): boolean {
    const { lo, hi, descending } = this
    while (this.live) {
      let v = this.view
      if (v === null) {
        v = this.view = this.block(this.bi).view()
        this.i = descending ? lastBefore(v, hi.ts, hi.seq) : firstAfter(v, lo.ts, lo.seq)
      }
      const ts = v.ts
      const seq = v.seq
      if (descending) {
        for (let i = this.i; i >= 0; i--) {
          const t = ts[i]!
          if (t < lo.ts || (t === lo.ts && seq[i]! <= lo.seq)) {
            this.bi = -1
            return false
          }
          if (this.examine(v, i, t)) return true
        }
        this.bi--
      } else {
        for (let i = this.i; i < v.n; i++) {
          const t = ts[i]!
          if (t > hi.ts || (t === hi.ts && seq[i]! >= hi.seq)) {
            this.bi = this.count
            return false
          }
          if (this.examine(v, i, t)) return true
        }
        this.bi++
      }
      this.bound()
      // Still lazy: the caller re-queues the cursor at its new bound.
      if (this.live) return true
    }
    return false
  }

  /** Moves past the current (emitted) entry. */
  advance (): boolean {
    if (this.descending) this.i--
    else this.i++
    this.exact = false
    return this.settle()
  }
}

/** The cursors of one stream-slot for a scan between lo and hi. */
export function cursorsOf (part: StreamSlot, descending: boolean, lo: Bound, hi: Bound, filter: EntryFilter, budget: ScanBudget, out: Cursor[]): void {
  const chain = new Cursor(part, part.chain, part.head, descending, lo, hi, filter, budget)
  if (chain.live) out.push(chain)
  const overlaps = (b: Block): boolean => b.maxTs >= lo.ts && b.minTs <= hi.ts
  for (const b of part.late) {
    if (overlaps(b)) {
      const c = new Cursor(part, [b], null, descending, lo, hi, filter, budget)
      if (c.live) out.push(c)
    }
  }
  if (part.lateOpen !== null && overlaps(part.lateOpen)) {
    const c = new Cursor(part, [], part.lateOpen, descending, lo, hi, filter, budget)
    if (c.live) out.push(c)
  }
}

/**
 * A heap of cursors. `next()` returns the cursor positioned on the next
 * entry in order, opening lazy cursors as they reach the top; the caller
 * reads the entry, then calls `pop()` to move past it.
 */
export class CursorHeap {
  private readonly heap: OrderHeap<Cursor>

  constructor (cursors: Cursor[], descending: boolean) {
    this.heap = new OrderHeap(cursors, descending)
  }

  /** The cursor on the next entry, or null when every cursor is done. */
  next (): Cursor | null {
    const heap = this.heap
    for (;;) {
      const top = heap.top
      if (top === undefined) return null
      if (top.exact) return top
      if (top.settle()) heap.settleTop()
      else heap.dropTop()
    }
  }

  /** Moves the top cursor past its entry. */
  pop (): void {
    const heap = this.heap
    if (heap.top!.advance()) heap.settleTop()
    else heap.dropTop()
  }

  /**
   * Hands over the top cursor's entry and those after it in its block, one
   * after another, until its block ends or the budget asks to yield; then
   * places it again. The order across cursors is not kept: for counting (a
   * metric query), it spares a heap step per entry.
   */
  drainTop (each: (c: Cursor) => void, budget: { readonly yieldNow: boolean }): void {
    const heap = this.heap
    const c = heap.top!
    let more: boolean
    do {
      each(c)
      more = c.advance()
    } while (more && c.exact && !budget.yieldNow)
    if (more) heap.settleTop()
    else heap.dropTop()
  }
}
