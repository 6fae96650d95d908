// One service's entries, kept sorted by (timestamp, seq) in a list of blocks,
// the design of Python's sortedcontainers: an out-of-order insert shifts at
// most one block (≤ MAX_BLOCK entries), a range bound is two binary searches
// (over block maxima, then inside one block), and purge drops whole blocks.
//
//   blocks: [ b0 | b1 | b2 | ... ]      maxTs[i] = last timestamp of block i
//   b = { ts: number[], seq: number[], msg: string[] }   parallel arrays
//
// seq is a number handed out by the front thread in arrival order, unique per
// process. Entries arrive at a shard in seq order, so appending after equal
// timestamps keeps arrival order, and (ts, seq) is a total order across every
// service and shard, which is what the merge and the cursors rely on.

export const MAX_BLOCK = 1024

export interface Block {
  ts: number[]
  seq: number[]
  msg: string[]
  /** Sum of msg lengths, so purge can account for memory without walking dropped entries. */
  chars: number
}

function sumLengths (msgs: string[]): number {
  let n = 0
  for (const m of msgs) n += m.length
  return n
}

/** A position inside a SortedLog: block index and offset in that block. */
export interface Position { block: number, offset: number }

/** First index in `a[lo, hi)` with a[i] > x (bisect_right). */
export function upperBound (a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index in `a[lo, hi)` with a[i] >= x (bisect_left). */
export function lowerBound (a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index in block b with (ts, seq) >= (t, s). */
function pairLowerBound (b: Block, t: number, s: number): number {
  let lo = 0
  let hi = b.ts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const mt = b.ts[mid]!
    if (mt < t || (mt === t && b.seq[mid]! < s)) lo = mid + 1
    else hi = mid
  }
  return lo
}

export class SortedLog {
  readonly blocks: Block[] = []
  readonly maxTs: number[] = []
  size = 0
  /** Total length of every stored message. */
  chars = 0

  get oldest (): number { return this.size === 0 ? NaN : this.blocks[0]!.ts[0]! }
  get newest (): number { return this.size === 0 ? NaN : this.maxTs[this.maxTs.length - 1]! }

  insert (ts: number, seq: number, msg: string): void {
    this.size++
    this.chars += msg.length
    const last = this.blocks.length - 1
    if (last < 0 || ts >= this.maxTs[last]!) {
      // In-order arrival, the common case: append, opening a new block when full.
      if (last < 0 || this.blocks[last]!.ts.length >= MAX_BLOCK) {
        this.blocks.push({ ts: [ts], seq: [seq], msg: [msg], chars: msg.length })
        this.maxTs.push(ts)
      } else {
        const b = this.blocks[last]!
        b.ts.push(ts)
        b.seq.push(seq)
        b.msg.push(msg)
        b.chars += msg.length
        this.maxTs[last] = ts
      }
      return
    }
    // Out of order: the first block whose max is greater than ts holds the spot.
    const i = upperBound(this.maxTs, ts)
    const b = this.blocks[i]!
    const at = upperBound(b.ts, ts)
    b.ts.splice(at, 0, ts)
    b.seq.splice(at, 0, seq)
    b.msg.splice(at, 0, msg)
    b.chars += msg.length
    if (b.ts.length > MAX_BLOCK) this.split(i)
  }

  private split (i: number): void {
    const b = this.blocks[i]!
    const half = b.ts.length >>> 1
    const msg = b.msg.splice(half)
    const chars = sumLengths(msg)
    const right: Block = { ts: b.ts.splice(half), seq: b.seq.splice(half), msg, chars }
    b.chars -= chars
    this.blocks.splice(i + 1, 0, right)
    this.maxTs.splice(i, 1, b.ts[half - 1]!, right.ts[right.ts.length - 1]!)
  }

  /**
   * Drops every entry with ts < cutoff. Whole blocks go first; at most one
   * block is trimmed. Returns how many entries were dropped.
   */
  purge (cutoff: number): number {
    const whole = lowerBound(this.maxTs, cutoff) // blocks entirely older than cutoff
    let dropped = 0
    let chars = 0
    for (let i = 0; i < whole; i++) {
      dropped += this.blocks[i]!.ts.length
      chars += this.blocks[i]!.chars
    }
    if (whole > 0) {
      this.blocks.splice(0, whole)
      this.maxTs.splice(0, whole)
    }
    const first = this.blocks[0]
    if (first !== undefined) {
      const cut = lowerBound(first.ts, cutoff)
      if (cut > 0) {
        first.ts.splice(0, cut)
        first.seq.splice(0, cut)
        const gone = sumLengths(first.msg.splice(0, cut))
        first.chars -= gone
        chars += gone
        dropped += cut
      }
    }
    this.size -= dropped
    this.chars -= chars
    return dropped
  }

  /** Position of the first entry with (ts, seq) > (afterTs, afterSeq); the end if none. */
  positionAfter (afterTs: number, afterSeq: number): Position {
    const i = lowerBound(this.maxTs, afterTs)
    for (let block = i; block < this.blocks.length; block++) {
      const b = this.blocks[block]!
      // Sequence numbers are whole, so "after (t, s)" is "at or after (t, s + 1)".
      const offset = pairLowerBound(b, afterTs, afterSeq + 1)
      if (offset < b.ts.length) return { block, offset }
    }
    return { block: this.blocks.length, offset: 0 }
  }

  /** Position of the last entry with (ts, seq) < (beforeTs, beforeSeq); block -1 if none. */
  positionBefore (beforeTs: number, beforeSeq: number): Position {
    // The last entry with ts <= beforeTs sits in block upperBound(maxTs, beforeTs)
    // or the one before it; walk back over equal timestamps with seq >= beforeSeq.
    let block = Math.min(upperBound(this.maxTs, beforeTs), this.blocks.length - 1)
    while (block >= 0) {
      const b = this.blocks[block]!
      const offset = pairLowerBound(b, beforeTs, beforeSeq) - 1
      if (offset >= 0) return { block, offset }
      block--
    }
    return { block: -1, offset: 0 }
  }
}
