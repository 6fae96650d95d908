// k-way merge of runs that are each already sorted by (ts, seq), through a
// binary min-heap (max-heap when descending). Used twice: inside a shard to
// merge its services, and on the front thread to merge the shards' parts.
// Cost: O(limit · log k) for k runs, never a concat-and-sort.

/** A sorted run positioned on its current entry. */
export interface Run {
  ts: number
  seq: number
  /** Moves to the next entry; false when the run is exhausted. */
  advance (): boolean
}

/** True when entry (at, as) comes strictly before (bt, bs) in ascending (ts, seq) order. */
export function before (at: number, as: number, bt: number, bs: number): boolean {
  return at < bt || (at === bt && as < bs)
}

/**
 * Emits up to `limit` entries from `runs` (each positioned on its first entry)
 * in merged order; `emit` reads the run's current entry, and may answer false
 * to stop before taking it. Returns how many were emitted.
 */
export function mergeRuns<R extends Run> (runs: R[], descending: boolean, limit: number, emit: (run: R) => boolean | undefined | void): number {
  const heap = runs.slice()
  const first = descending
    ? (a: Run, b: Run) => before(b.ts, b.seq, a.ts, a.seq)
    : (a: Run, b: Run) => before(a.ts, a.seq, b.ts, b.seq)

  const siftDown = (i: number): void => {
    const n = heap.length
    const item = heap[i]!
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && first(heap[r]!, heap[l]!) ? r : l
      if (!first(heap[c]!, item)) break
      heap[i] = heap[c]!
      i = c
    }
    heap[i] = item
  }

  for (let i = (heap.length >>> 1) - 1; i >= 0; i--) siftDown(i)

  let emitted = 0
  while (emitted < limit && heap.length > 0) {
    const top = heap[0]!
    if (emit(top) === false) break
    emitted++
    if (!top.advance()) {
      const last = heap.pop()!
      if (heap.length === 0) break
      heap[0] = last
    }
    siftDown(0)
  }
  return emitted
}
