// Buffers that open blocks grow through, handed back when a block is sealed
// or dropped instead of being left to the garbage collector. An open block
// lives for seconds to minutes, so its buffers are old by the time they die:
// V8 frees such ArrayBuffers only at a full collection, and counts them
// towards one only after tens of megabytes, so under ingest each shard held
// dead open-block buffers worth several times what it stored (heaptrack:
// 183 MB of live Buffers at peak for 69 MB held). A buffer given back is
// reused by the next block that grows, so open blocks churn no memory.
//
// A pooled buffer has no reader but its writer: OpenBlock.view() copies the
// bytes a scan reads, so a buffer can be reused the moment it is given back.

/** Smallest and largest buffers pooled; requests above MAX_CLASS get a buffer of their own. */
const MIN_CLASS = 1024
const MAX_CLASS = 512 * 1024
/** Free bytes kept per thread at most; a buffer given back beyond it is left to the collector. */
const DEFAULT_KEEP_BYTES = 4 * 1024 * 1024

export class BufferPool {
  /** Free buffers by size class: free[k] holds buffers of MIN_CLASS << k bytes. */
  private readonly free: Buffer[][] = []
  /** Bytes in the free lists. */
  freeBytes = 0

  constructor (private readonly keepBytes = DEFAULT_KEEP_BYTES) {
    for (let size = MIN_CLASS; size <= MAX_CLASS; size *= 2) this.free.push([])
  }

  /** A buffer of at least `min` bytes (a power of two from 1 KiB), from the free list when one is there. */
  take (min: number): Buffer {
    if (min > MAX_CLASS) return Buffer.allocUnsafeSlow(min)
    const k = classOf(min)
    const buf = this.free[k]!.pop()
    if (buf === undefined) return Buffer.allocUnsafeSlow(MIN_CLASS << k)
    this.freeBytes -= buf.length
    return buf
  }

  /** Hands `buf` back; it must be one take() returned and have no reader left. */
  give (buf: Buffer): void {
    const size = buf.length
    if (size < MIN_CLASS || size > MAX_CLASS || (size & (size - 1)) !== 0) return
    if (this.freeBytes + size > this.keepBytes) return
    this.free[classOf(size)]!.push(buf)
    this.freeBytes += size
  }
}

/** The size class of a request of `min` bytes (min ≤ MAX_CLASS). */
function classOf (min: number): number {
  let k = 0
  while ((MIN_CLASS << k) < min) k++
  return k
}

/** The pool of this thread's open blocks. */
export const openBlockPool = new BufferPool()
