// The one k-way merge of this code base: a binary heap of sorted runs, each
// positioned on its current entry, ordered by (ts, seq): a min-heap
// ascending, a max-heap descending. A shard merges its blocks' cursors with
// it (store/scan.ts), the front the shards' parts (shards/merge.ts).
// Cost: O(log k) per entry for k runs, never a concat-and-sort.

/** A run positioned on its current entry. */
export interface Positioned {
  ts: number
  seq: number
}

/** True when entry (at, as) comes strictly before (bt, bs) in ascending (ts, seq) order. */
export function before (at: number, as: number, bt: number, bs: number): boolean {
  return at < bt || (at === bt && as < bs)
}

const firstAsc = (a: Positioned, b: Positioned): boolean => a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq)
const firstDesc = (a: Positioned, b: Positioned): boolean => a.ts > b.ts || (a.ts === b.ts && a.seq > b.seq)

export class OrderHeap<T extends Positioned> {
  private readonly first: (a: Positioned, b: Positioned) => boolean

  /** Takes `runs` as its own array. */
  constructor (private readonly heap: T[], descending: boolean) {
    this.first = descending ? firstDesc : firstAsc
    for (let i = (heap.length >>> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  /** The run on the first entry in order, or undefined when none is left. */
  get top (): T | undefined { return this.heap[0] }

  /** The top run moved to a later entry: put it back in its place. */
  settleTop (): void {
    this.siftDown(0)
  }

  /** The top run is done: takes it out. */
  dropTop (): void {
    const last = this.heap.pop()!
    if (this.heap.length > 0) {
      this.heap[0] = last
      this.siftDown(0)
    }
  }

  private siftDown (i: number): void {
    const heap = this.heap
    const n = heap.length
    const item = heap[i]!
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.first(heap[r]!, heap[l]!) ? r : l
      if (!this.first(heap[c]!, item)) break
      heap[i] = heap[c]!
      i = c
    }
    heap[i] = item
  }
}
