import { describe, expect, it } from 'vitest'
import { LocalSeqs, SharedSeqs } from '../../src/shards/seqs.js'

describe('sequence numbers', () => {
  it('LocalSeqs hands out consecutive numbers, never below atLeast()', () => {
    const s = new LocalSeqs()
    expect(s.take(3)).toBe(1)
    expect(s.take(2)).toBe(4)
    s.atLeast(100)
    expect(s.take(1)).toBe(100)
    s.atLeast(50) // lower: no effect
    expect(s.take(1)).toBe(101)
  })

  it('SharedSeqs over one counter never hand out a number twice, whatever the sizes taken', () => {
    const buffer = SharedSeqs.create()
    const fronts = [new SharedSeqs(buffer), new SharedSeqs(buffer), new SharedSeqs(buffer)]
    const seen = new Set<number>()
    let taken = 0
    for (let i = 0; i < 3000; i++) {
      const n = 1 + ((i * 7919) % 300) + (i % 97 === 0 ? 70_000 : 0) // now and then more than a range
      const base = fronts[i % 3]!.take(n)
      // Check the ends and a middle: ranges are contiguous, so overlap shows at an end.
      for (const k of new Set([base, base + (n >> 1), base + n - 1])) {
        expect(seen.has(k)).toBe(false)
        seen.add(k)
      }
      taken += n
      expect(base).toBeGreaterThanOrEqual(1)
    }
    expect(taken).toBeGreaterThan(0)
    // Numbers within one front rise with each take.
    const f = new SharedSeqs(buffer)
    const a = f.take(10)
    const b = f.take(10)
    expect(b).toBe(a + 10)
  })

  it('SharedSeqs.atLeast lifts the shared counter and drops a range below it', () => {
    const buffer = SharedSeqs.create()
    const one = new SharedSeqs(buffer)
    const two = new SharedSeqs(buffer)
    expect(one.take(1)).toBe(1) // one now holds a range from 1
    two.atLeast(1_000_000)
    expect(two.take(5)).toBeGreaterThanOrEqual(1_000_000)
    one.atLeast(2_000_000)
    expect(one.take(1)).toBeGreaterThanOrEqual(2_000_000)
  })
})
