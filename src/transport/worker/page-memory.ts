// Shared memory a worker shard lends its query parts in. A page of 1000
// entries is ~140 KB; copied into a new buffer on the shard and cloned into
// another on the front, every query allocated ~300 KB of memory outside the
// JavaScript heap, and V8 counts such memory towards starting a full
// collection: both threads ran one every 200-300 ms under a steady stream of
// queries, the p99 of the seed's own query (bench/query-phases.ts). A part
// written here instead crosses to the front as a view of the same memory
// (a SharedArrayBuffer is shared, not copied, by postMessage; V8 does not count
// it per view), and the front gives it back once the page is on the socket.
//
// The memory is cut in granules, each one Int32 flag: 1 lent, 0 free. Only
// the shard sets flags (lend, first fit, so the low granules are the ones
// reused and the rest is never touched), only the front clears them (giveBack),
// so no flag is ever raced for. A part that does not fit is made in memory
// of its own, as without this.

import type { Lent } from '../../store/shard-messages.js'
import { ownMemory, type PartMemory } from '../../store/query-run.js'

const GRANULE = 16 * 1024

export class PageMemory {
  private readonly flags: Int32Array
  private readonly base: number
  private readonly granules: number

  /** Shared memory for about `bytes` of lent parts. */
  static create (bytes: number): SharedArrayBuffer {
    const granules = Math.max(1, Math.ceil(bytes / GRANULE))
    return new SharedArrayBuffer(headerBytes(granules) + granules * GRANULE)
  }

  constructor (readonly buffer: SharedArrayBuffer) {
    // header + granules × GRANULE = byteLength, with the header a whole number of 8-byte words.
    let granules = Math.floor(buffer.byteLength / GRANULE)
    while (headerBytes(granules) + granules * GRANULE > buffer.byteLength) granules--
    this.granules = granules
    this.base = headerBytes(granules)
    this.flags = new Int32Array(buffer, 0, granules)
  }

  /** Shard side: `bytes` of free memory (at a multiple of 8), or null when no run of free granules is long enough. */
  lend (bytes: number): Lent | null {
    const want = Math.max(1, Math.ceil(bytes / GRANULE))
    const { flags, granules } = this
    let run = 0
    for (let g = 0; g < granules; g++) {
      if (Atomics.load(flags, g) !== 0) {
        run = 0
        continue
      }
      if (++run < want) continue
      const first = g - want + 1
      for (let k = first; k <= g; k++) Atomics.store(flags, k, 1)
      return { at: this.base + first * GRANULE, bytes }
    }
    return null
  }

  /** Front side: gives back what lend() returned, once nothing reads it any more. */
  giveBack (lent: Lent): void {
    const first = (lent.at - this.base) / GRANULE
    const last = first + Math.max(1, Math.ceil(lent.bytes / GRANULE))
    for (let g = first; g < last; g++) Atomics.store(this.flags, g, 0)
  }

  /** Shard side: where a part is made: here when it fits, else in memory of its own. */
  partMemory (): PartMemory {
    return (bytes) => {
      const lent = this.lend(bytes)
      return lent === null ? ownMemory(bytes) : { buffer: this.buffer, at: lent.at, lent }
    }
  }

  /** Bytes lent and not given back (whole granules). */
  get lentBytes (): number {
    let n = 0
    for (let g = 0; g < this.granules; g++) n += Atomics.load(this.flags, g)
    return n * GRANULE
  }
}

/** The flags of `granules` granules, rounded up to whole 8-byte words so lent memory starts aligned for Float64Array. */
function headerBytes (granules: number): number {
  return Math.ceil((granules * 4) / 8) * 8
}
