import { describe, expect, it } from 'vitest'
import { fnv1a, shardOf } from '../../src/core/hash.js'

// An independent FNV-1a (32-bit) written from the definition with BigInt:
// start from the offset basis 2166136261, then for each unit XOR it in and
// multiply by the prime 16777619, modulo 2^32.
function referenceFnv1a (s: string): number {
  let h = 2166136261n
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i))
    h = (h * 16777619n) % 4294967296n
  }
  return Number(h)
}

describe('fnv1a', () => {
  it('matches values worked out by hand and the published FNV-1a test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5) // the offset basis
    // 'a': (0x811c9dc5 ^ 0x61) · 0x01000193 = 0x811c9da4 · (2^24 + 0x193) mod 2^32
    //    = 0xa4000000 + 0x400c292c = 0xe40c292c
    expect(fnv1a('a')).toBe(0xe40c292c)
    // From the FNV reference test suite.
    const vectors: Array<[string, number]> = [
      ['b', 0xe70c2de5], ['c', 0xe60c2c52], ['d', 0xe10c2473], ['e', 0xe00c22e0], ['f', 0xe30c2799],
      ['fo', 0x6222e842], ['foo', 0xa9f37ed7], ['foob', 0x3f5076ef], ['fooba', 0x39aaa18a], ['foobar', 0xbf9cf968]
    ]
    for (const [s, h] of vectors) expect(fnv1a(s), s).toBe(h)
  })

  it('agrees with a BigInt implementation of the definition', () => {
    const names = ['api', 'db', 'payments-service', 'ünïcødé', '日本語', '😀', 'a'.repeat(1000), '\u0000', 'x\uffff']
    for (let i = 0; i < 2000; i++) names.push(`service-${i}`)
    for (const name of names) expect(fnv1a(name), name).toBe(referenceFnv1a(name))
  })

  it('hashes UTF-16 code units, as documented', () => {
    // 'é' is one unit (0xe9); a byte-oriented UTF-8 hash would read 0xc3 0xa9.
    let h = (0x811c9dc5 ^ 0xe9) >>> 0
    h = Number((BigInt(h) * 16777619n) % 4294967296n)
    expect(fnv1a('é')).toBe(h)
  })

  it('returns an unsigned 32-bit integer', () => {
    for (let i = 0; i < 1000; i++) {
      const h = fnv1a(`n${i}`)
      expect(Number.isInteger(h)).toBe(true)
      expect(h).toBeGreaterThanOrEqual(0)
      expect(h).toBeLessThan(2 ** 32)
    }
  })
})

describe('shardOf', () => {
  it('is the hash modulo the shard count, always in range', () => {
    for (const shards of [1, 2, 3, 7, 16, 256]) {
      for (let i = 0; i < 500; i++) {
        const name = `svc-${i}`
        const s = shardOf(name, shards)
        expect(s).toBe(referenceFnv1a(name) % shards)
        expect(s).toBeGreaterThanOrEqual(0)
        expect(s).toBeLessThan(shards)
      }
    }
  })

  it('is stable: pinned shards for a few names, from the hash vectors above', () => {
    // fnv1a('foobar') = 0xbf9cf968 = 3214735720: mod 8 = 0, mod 7 = 3214735720 - 7·459247960 = 0, mod 10 = 0.
    expect(shardOf('foobar', 8)).toBe(0)
    expect(shardOf('foobar', 10)).toBe(0)
    // fnv1a('a') = 0xe40c292c = 3826002220: mod 8 = 4 (low bits 100), mod 3 = 1 (digit sum 25).
    expect(shardOf('a', 8)).toBe(4)
    expect(shardOf('a', 3)).toBe(1)
    expect(shardOf('a', 1)).toBe(0)
  })

  it('spreads many names roughly evenly', () => {
    const names = Array.from({ length: 40_000 }, (_, i) => `service-${i}`)
    for (const shards of [2, 4, 8, 16]) {
      const counts = new Array<number>(shards).fill(0)
      for (const name of names) counts[shardOf(name, shards)]!++
      const mean = names.length / shards
      // Every shard within 10% of the mean, and a chi-square statistic a fair
      // die would exceed only rarely (about 3 times the degrees of freedom).
      for (const c of counts) expect(Math.abs(c - mean) / mean, `${shards} shards: ${counts.join(',')}`).toBeLessThan(0.1)
      const chi2 = counts.reduce((sum, c) => sum + (c - mean) ** 2 / mean, 0)
      expect(chi2, `${shards} shards: ${counts.join(',')}`).toBeLessThan(3 * (shards - 1) + 10)
    }
  })
})
