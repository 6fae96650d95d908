import { describe, expect, it } from 'vitest'
import { PageMemory } from '../../src/transport/worker/page-memory.js'

describe('PageMemory', () => {
  it('lends runs of free granules first fit, 8-byte aligned, and takes them back', () => {
    const pages = new PageMemory(PageMemory.create(4 * 16384))
    const a = pages.lend(100)!
    const b = pages.lend(16385)!
    expect(a.at % 8).toBe(0)
    expect(b.at - a.at).toBe(16384)
    expect(pages.lentBytes).toBe(3 * 16384)
    // One granule is left: more than that does not fit, and nothing is lent for it.
    expect(pages.lend(16385)).toBeNull()
    expect(pages.lentBytes).toBe(3 * 16384)
    pages.giveBack(a)
    // The first free run is the one given back.
    expect(pages.lend(10)!.at).toBe(a.at)
    pages.giveBack(b)
    expect(pages.lend(2 * 16384)!.at).toBe(b.at)
  })

  it('makes a part that does not fit in memory of its own, and one that fits in the shared buffer', () => {
    const pages = new PageMemory(PageMemory.create(16384))
    const memory = pages.partMemory()
    const lent = memory(1000)
    expect(lent.buffer).toBe(pages.buffer)
    expect(lent.lent).toEqual({ at: lent.at, bytes: 1000 })
    const own = memory(1000)
    expect(own.buffer).toBeInstanceOf(ArrayBuffer)
    expect(own.lent).toBeNull()
  })

  it('shares its flags with another thread\'s view of the same buffer', () => {
    const buffer = PageMemory.create(2 * 16384)
    const shard = new PageMemory(buffer)
    const front = new PageMemory(buffer)
    const lent = shard.lend(16384)!
    expect(front.lentBytes).toBe(16384)
    front.giveBack(lent)
    expect(shard.lentBytes).toBe(0)
  })
})
