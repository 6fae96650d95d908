// Where a thread's sealed blocks keep their compressed bytes: a few large
// slabs, filled one after the other, instead of one mid-size allocation per
// block. Blocks live for the retention window and die roughly in the order
// they were sealed, so a slab empties as a whole and goes back to the system
// in one piece; the many small buffers they were before were scattered among
// the allocator's short-lived ones and kept its arenas from shrinking.
//
//   slab 0 [ b0 | b1 | b2 | ... ]  full, live 40%   ─ compacted below half: its blocks move to the current slab
//   slab 1 [ b7 | b8 | ... |    ]  current: new blocks are placed at its end
//
// A slab's memory is never reused: a slab is dropped (and freed by the
// collector) once nothing is placed in it, so a view taken before a block
// moved or died stays valid for as long as its reader holds it.

/** Bytes of one slab. */
export const SLAB_BYTES = 1024 * 1024
/** Data at least this long gets a buffer of its own: it would leave too much of a slab unused. */
const OWN_FROM = SLAB_BYTES / 8
/** A slab that is not the current one is compacted once less than this share of it is in use. */
const COMPACT_BELOW = 0.5

/** Bytes held for a block: a view into a slab, or a buffer of their own (slab null). */
export class Placed {
  /** False once freed: the bytes stay readable (a scan may still hold the block), but are no longer counted or moved. */
  live = true
  constructor (public bytes: Buffer, public slab: Slab | null) {}
}

class Slab {
  readonly buf = Buffer.allocUnsafeSlow(SLAB_BYTES)
  used = 0
  live = 0
  readonly members = new Set<Placed>()
}

export class BlockArena {
  private current: Slab | null = null
  private readonly slabs = new Set<Slab>()
  /** Bytes placed and not freed. */
  liveBytes = 0
  /** Blocks moved to compact a slab, since the thread started. */
  moved = 0

  /** Bytes of every slab this arena holds, in use or not. */
  get slabBytes (): number { return this.slabs.size * SLAB_BYTES }

  /** A copy of `data`, in a slab unless it is large. */
  place (data: Uint8Array): Placed {
    this.liveBytes += data.length
    if (data.length >= OWN_FROM) {
      const own = Buffer.allocUnsafeSlow(data.length)
      own.set(data)
      return new Placed(own, null)
    }
    const placed = new Placed(this.copy(data), this.current)
    this.current!.members.add(placed)
    this.settle()
    return placed
  }

  /**
   * Lets go of what place() returned (again: nothing). Its bytes stay as they
   * are for whoever still reads them; the slab's memory is never written twice.
   */
  free (placed: Placed): void {
    if (!placed.live) return
    placed.live = false
    this.liveBytes -= placed.bytes.length
    const slab = placed.slab
    if (slab === null) return
    placed.slab = null
    slab.members.delete(placed)
    slab.live -= placed.bytes.length
    if (slab !== this.current && slab.live < SLAB_BYTES * COMPACT_BELOW) {
      this.sparse.push(slab)
      this.settle()
    }
  }

  /** Slabs, no longer current, that fell below COMPACT_BELOW in use. */
  private readonly sparse: Slab[] = []

  /** Drops the empty ones of the sparse slabs, and moves the blocks of the others to the current slab. */
  private settle (): void {
    while (this.sparse.length > 0) {
      const slab = this.sparse.pop()!
      if (!this.slabs.has(slab)) continue
      this.slabs.delete(slab)
      for (const placed of slab.members) {
        placed.bytes = this.copy(placed.bytes)
        placed.slab = this.current
        this.current!.members.add(placed)
        this.moved++
      }
      slab.members.clear()
    }
  }

  /** `data` copied to the end of the current slab (a new one when it does not fit). */
  private copy (data: Uint8Array): Buffer {
    let slab = this.current
    if (slab === null || slab.used + data.length > SLAB_BYTES) {
      if (slab !== null && slab.live < SLAB_BYTES * COMPACT_BELOW) this.sparse.push(slab)
      slab = this.current = new Slab()
      this.slabs.add(slab)
    }
    const at = slab.used
    slab.buf.set(data, at)
    slab.used = at + data.length
    slab.live += data.length
    return slab.buf.subarray(at, at + data.length)
  }
}

/** The arena of this thread's sealed blocks. */
export const blockArena = new BlockArena()
