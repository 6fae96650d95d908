import { describe, expect, it } from 'vitest'
import { BlockArena, SLAB_BYTES } from '../../src/store/block-arena.js'
import { BufferPool } from '../../src/store/buffer-pool.js'
import { ByteWriter } from '../../src/store/bytes.js'

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill)

describe('BlockArena', () => {
  it('places copies one after the other in a slab, and a large one in a buffer of its own', () => {
    const arena = new BlockArena()
    const src = bytes(1000, 1)
    const a = arena.place(src)
    const b = arena.place(bytes(2000, 2))
    src.fill(9) // a copy: the source can be reused
    expect(a.bytes.equals(bytes(1000, 1))).toBe(true)
    expect(a.bytes.buffer).toBe(b.bytes.buffer)
    expect(b.bytes.byteOffset - a.bytes.byteOffset).toBe(1000)
    const big = arena.place(bytes(SLAB_BYTES / 4, 3))
    expect(big.slab).toBeNull()
    expect(big.bytes.buffer).not.toBe(a.bytes.buffer)
    expect(arena.liveBytes).toBe(3000 + SLAB_BYTES / 4)
    expect(arena.slabBytes).toBe(SLAB_BYTES)
  })

  it('drops a slab once everything in it is freed, and starts another when one is full', () => {
    const arena = new BlockArena()
    const size = SLAB_BYTES / 16
    const first = Array.from({ length: 16 }, (_, i) => arena.place(bytes(size, i)))
    expect(arena.slabBytes).toBe(SLAB_BYTES)
    const next = arena.place(bytes(size, 99)) // the first slab is full
    expect(arena.slabBytes).toBe(2 * SLAB_BYTES)
    expect(next.bytes.buffer).not.toBe(first[0]!.bytes.buffer)
    for (const p of first) arena.free(p)
    expect(arena.slabBytes).toBe(SLAB_BYTES)
    expect(arena.liveBytes).toBe(size)
  })

  it('moves what is left of a slab less than half in use to the current slab, bytes unchanged', () => {
    const arena = new BlockArena()
    const size = SLAB_BYTES / 16
    const first = Array.from({ length: 16 }, (_, i) => arena.place(bytes(size, i)))
    arena.place(bytes(size, 99)) // a second slab is now the current one
    const old = first[0]!.bytes
    // Free 9 of 16: below half, so the 7 left move.
    for (let i = 0; i < 9; i++) arena.free(first[i]!)
    expect(arena.moved).toBe(7)
    expect(arena.slabBytes).toBe(SLAB_BYTES)
    for (let i = 9; i < 16; i++) {
      expect(first[i]!.bytes.buffer).not.toBe(old.buffer)
      expect(first[i]!.bytes.equals(bytes(size, i))).toBe(true)
    }
    // A view taken before the move still reads what it read: slab memory is never written twice.
    expect(old.equals(bytes(size, 0))).toBe(true)
    expect(arena.liveBytes).toBe(8 * size)
  })

  it('counts a freed placement once, however often it is freed, and leaves its bytes readable', () => {
    const arena = new BlockArena()
    const a = arena.place(bytes(100, 7))
    arena.place(bytes(100, 8))
    arena.free(a)
    arena.free(a)
    expect(arena.liveBytes).toBe(100)
    expect(a.bytes.equals(bytes(100, 7))).toBe(true)
  })
})

describe('BufferPool', () => {
  it('hands out power-of-two buffers and reuses one given back', () => {
    const pool = new BufferPool(1 << 20)
    const a = pool.take(3000)
    expect(a.length).toBe(4096)
    pool.give(a)
    expect(pool.freeBytes).toBe(4096)
    expect(pool.take(4000)).toBe(a)
    expect(pool.freeBytes).toBe(0)
    expect(pool.take(2048)).not.toBe(a)
  })

  it('keeps no more free bytes than its bound, and no buffer it did not make', () => {
    const pool = new BufferPool(8192)
    pool.give(pool.take(4096))
    pool.give(pool.take(4096).fill(0)) // a second one: now 8 KiB free
    pool.give(Buffer.alloc(4096)) // over the bound
    expect(pool.freeBytes).toBe(8192)
    pool.give(Buffer.alloc(3000)) // not a class size
    expect(pool.freeBytes).toBe(8192)
  })

  it('backs a writer that gives its buffers back as it grows and when released', () => {
    const pool = new BufferPool(1 << 20)
    const w = new ByteWriter(1024, pool)
    w.utf8('x'.repeat(5000))
    // 1 KiB went back when it grew (to 16 KiB: utf8() makes room for 3 bytes a character).
    expect(pool.freeBytes).toBe(1024)
    expect(w.buf.length).toBe(16384)
    expect(w.view().toString()).toBe('x'.repeat(5000))
    w.release()
    expect(pool.freeBytes).toBe(1024 + 16384)
    expect(w.length).toBe(0)
  })
})
