import { OrderHeap, type Positioned } from '../core/order-heap.js'

// k-way merge of the shards' sorted parts on the front thread, through the
// one order heap (core/order-heap.ts).

/** A sorted run positioned on its current entry. */
export interface Run extends Positioned {
  /** Moves to the next entry; false when the run is exhausted. */
  advance (): boolean
}

/**
 * Emits up to `limit` entries from `runs` (each positioned on its first entry)
 * in merged order; `emit` reads the run's current entry, and may answer false
 * to stop before taking it. Returns how many were emitted.
 */
export function mergeRuns<R extends Run> (runs: R[], descending: boolean, limit: number, emit: (run: R) => boolean | undefined | void): number {
  const heap = new OrderHeap(runs.slice(), descending)
  let emitted = 0
  for (let top = heap.top; emitted < limit && top !== undefined; top = heap.top) {
    if (emit(top) === false) break
    emitted++
    if (top.advance()) heap.settleTop()
    else heap.dropTop()
  }
  return emitted
}
