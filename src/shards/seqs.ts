// Where arrival sequence numbers come from. They order entries with the same
// timestamp and make cursors exact; each is handed out once. One front thread
// counts them itself; several (FRONTS) take them in ranges from one counter
// they share, so numbers stay unique across the process without a message
// per request. Within one front they rise with arrival; across fronts two
// requests in flight at once have no order to keep, as on two connections.

export interface SeqSource {
  /** The first of `n` numbers that are now the caller's alone: base, base + 1, … base + n − 1. */
  take (n: number): number
  /** Numbers from here on are at least `next` (entries reloaded from DATA_DIR hold the ones below). */
  atLeast (next: number): void
}

export class LocalSeqs implements SeqSource {
  private next = 1

  take (n: number): number {
    const base = this.next
    this.next += n
    return base
  }

  atLeast (next: number): void {
    this.next = Math.max(this.next, next)
  }
}

/** Numbers a front takes from the shared counter at once: one atomic add per this many entries. */
const RANGE = 65_536

/** Ranges of one counter in shared memory (SharedSeqs.create), one SharedSeqs per thread. */
export class SharedSeqs implements SeqSource {
  private readonly counter: BigInt64Array
  private next = 0
  private end = 0

  /** The counter's memory, starting at 1; hand it to every front thread. */
  static create (): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(8)
    new BigInt64Array(buffer)[0] = 1n
    return buffer
  }

  constructor (buffer: SharedArrayBuffer) {
    this.counter = new BigInt64Array(buffer)
  }

  take (n: number): number {
    if (this.end - this.next < n) {
      const size = Math.max(n, RANGE)
      this.next = Number(Atomics.add(this.counter, 0, BigInt(size)))
      this.end = this.next + size
    }
    const base = this.next
    this.next += n
    return base
  }

  atLeast (next: number): void {
    const want = BigInt(next)
    for (;;) {
      const now = Atomics.load(this.counter, 0)
      if (now >= want || Atomics.compareExchange(this.counter, 0, now, want) === now) break
    }
    // A range taken before may be below `next`: start a new one.
    if (this.next < next) this.next = this.end = 0
  }
}
