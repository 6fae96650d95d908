import { describe, expect, it } from 'vitest'
import { MAX_BLOCK, SortedLog, lowerBound, upperBound, type Position } from '../../src/store/sorted-log.js'
import { byTsSeq, seeded, type Random } from './random.js'

interface Item { ts: number, seq: number, msg: string }

/** Every entry of the log in storage order. */
function flatten (log: SortedLog): Item[] {
  const out: Item[] = []
  for (const b of log.blocks) {
    for (let i = 0; i < b.ts.length; i++) out.push({ ts: b.ts[i]!, seq: b.seq[i]!, msg: b.msg[i]! })
  }
  return out
}

/** The structural invariants the binary searches rely on. */
function checkInvariants (log: SortedLog): void {
  expect(log.maxTs.length).toBe(log.blocks.length)
  let total = 0
  let chars = 0
  log.blocks.forEach((b, i) => {
    const blockChars = b.msg.reduce((n, m) => n + m.length, 0)
    expect(b.chars, `block ${i} chars`).toBe(blockChars)
    chars += blockChars
    expect(b.ts.length, `block ${i} is empty`).toBeGreaterThan(0)
    expect(b.ts.length, `block ${i} is too big`).toBeLessThanOrEqual(MAX_BLOCK)
    expect(b.seq.length).toBe(b.ts.length)
    expect(b.msg.length).toBe(b.ts.length)
    expect(log.maxTs[i], `maxTs[${i}]`).toBe(b.ts[b.ts.length - 1])
    total += b.ts.length
  })
  expect(log.size).toBe(total)
  expect(log.chars).toBe(chars)
}

/** Block/offset position as an index into flatten(log); the end position maps to the length. */
function flatIndex (log: SortedLog, p: Position): number {
  if (p.block === -1) return -1
  if (p.block === log.blocks.length) {
    expect(p.offset).toBe(0)
    return log.size
  }
  expect(p.offset).toBeGreaterThanOrEqual(0)
  expect(p.offset).toBeLessThan(log.blocks[p.block]!.ts.length)
  let i = 0
  for (let b = 0; b < p.block; b++) i += log.blocks[b]!.ts.length
  return i + p.offset
}

/** Inserts `n` entries with increasing seq and timestamps from `nextTs`; returns the reference list. */
function fill (log: SortedLog, n: number, nextTs: (i: number) => number, firstSeq = 1): Item[] {
  const items: Item[] = []
  for (let i = 0; i < n; i++) {
    const item = { ts: nextTs(i), seq: firstSeq + i, msg: 'm'.repeat(i % 7) + String(firstSeq + i) }
    log.insert(item.ts, item.seq, item.msg)
    items.push(item)
  }
  return items
}

const sorted = (items: Item[]): Item[] => [...items].sort(byTsSeq)

describe('upperBound / lowerBound', () => {
  const linearUpper = (a: number[], x: number, lo: number, hi: number): number => {
    for (let i = lo; i < hi; i++) if (a[i]! > x) return i
    return hi
  }
  const linearLower = (a: number[], x: number, lo: number, hi: number): number => {
    for (let i = lo; i < hi; i++) if (a[i]! >= x) return i
    return hi
  }

  it('find the first index greater than / not less than x', () => {
    const a = [1, 3, 3, 3, 5, 8]
    expect(upperBound(a, 3)).toBe(4)
    expect(lowerBound(a, 3)).toBe(1)
    expect(upperBound(a, 0)).toBe(0)
    expect(lowerBound(a, 9)).toBe(6)
    expect(upperBound(a, 8)).toBe(6)
    expect(lowerBound(a, 4)).toBe(4)
    expect(upperBound([], 1)).toBe(0)
    expect(lowerBound([], 1)).toBe(0)
  })

  it('agree with a linear scan on random arrays and sub-ranges', () => {
    const rnd = seeded(1)
    for (let round = 0; round < 300; round++) {
      const a = Array.from({ length: rnd.int(0, 40) }, () => rnd.int(0, 15)).sort((x, y) => x - y)
      const lo = rnd.int(0, a.length)
      const hi = rnd.int(lo, a.length)
      for (let x = -1; x <= 16; x++) {
        expect(upperBound(a, x, lo, hi)).toBe(linearUpper(a, x, lo, hi))
        expect(lowerBound(a, x, lo, hi)).toBe(linearLower(a, x, lo, hi))
      }
    }
  })

  it('work on typed arrays', () => {
    const a = Float64Array.from([0.5, 1.5, 1.5, 2.5])
    expect(upperBound(a, 1.5)).toBe(3)
    expect(lowerBound(a, 1.5)).toBe(1)
  })
})

describe('SortedLog', () => {
  it('starts empty', () => {
    const log = new SortedLog()
    expect(log.size).toBe(0)
    expect(log.oldest).toBeNaN()
    expect(log.newest).toBeNaN()
    expect(log.positionAfter(0, 0)).toEqual({ block: 0, offset: 0 })
    expect(log.positionBefore(0, 0).block).toBe(-1)
    expect(log.purge(Infinity)).toBe(0)
    checkInvariants(log)
  })

  it('appends in-order entries, opening a new block every MAX_BLOCK entries', () => {
    const log = new SortedLog()
    const n = 3 * MAX_BLOCK + 5
    const items = fill(log, n, (i) => 1000 + i * 10)
    checkInvariants(log)
    expect(log.blocks.map((b) => b.ts.length)).toEqual([MAX_BLOCK, MAX_BLOCK, MAX_BLOCK, 5])
    expect(flatten(log)).toEqual(items)
    expect(log.size).toBe(n)
    expect(log.oldest).toBe(1000)
    expect(log.newest).toBe(1000 + (n - 1) * 10)
  })

  it('inserts out-of-order entries in place', () => {
    const log = new SortedLog()
    log.insert(30, 1, 'c')
    log.insert(10, 2, 'a')
    log.insert(20, 3, 'b')
    log.insert(40, 4, 'd')
    log.insert(5, 5, 'first')
    expect(flatten(log).map((e) => e.msg)).toEqual(['first', 'a', 'b', 'c', 'd'])
    expect(log.oldest).toBe(5)
    expect(log.newest).toBe(40)
    checkInvariants(log)
  })

  it('keeps arrival (seq) order among equal timestamps, late or not', () => {
    const log = new SortedLog()
    log.insert(10, 1, 'a')
    log.insert(20, 2, 'b')
    log.insert(10, 3, 'c') // out of order, equal to an earlier timestamp: goes after it
    log.insert(20, 4, 'd') // in order, equal to the newest
    log.insert(10, 5, 'e')
    expect(flatten(log).map((e) => [e.ts, e.seq])).toEqual([[10, 1], [10, 3], [10, 5], [20, 2], [20, 4]])
  })

  it('keeps seq order for a run of equal timestamps spanning many blocks', () => {
    const log = new SortedLog()
    const rnd = seeded(2)
    const items: Item[] = []
    // A long run at ts 500 with late entries at ts 500 and other timestamps mixed in.
    for (let seq = 1; seq <= 5 * MAX_BLOCK; seq++) {
      const ts = rnd.int(0, 3) === 0 ? rnd.int(0, 1000) : 500
      log.insert(ts, seq, String(seq))
      items.push({ ts, seq, msg: String(seq) })
    }
    checkInvariants(log)
    expect(log.blocks.length).toBeGreaterThan(5)
    expect(flatten(log)).toEqual(sorted(items))
    const at500 = flatten(log).filter((e) => e.ts === 500).map((e) => e.seq)
    expect(at500).toEqual([...at500].sort((a, b) => a - b))
  })

  // Patterns of arrival, each checked against a reference sort of everything inserted.
  const patterns: Array<[string, (rnd: Random, i: number) => number]> = [
    ['uniformly random timestamps', (rnd) => rnd.int(0, 1_000_000)],
    ['few distinct timestamps (many ties)', (rnd) => rnd.int(0, 50) * 1000],
    ['mostly in order with late stragglers', (rnd, i) => i * 10 - (rnd.int(0, 4) === 0 ? rnd.int(0, 20_000) : 0)],
    ['strictly decreasing', (_rnd, i) => 1_000_000 - i],
    ['alternating old and new', (rnd, i) => (i % 2 === 0 ? i : rnd.int(0, 100))]
  ]
  for (const [name, nextTs] of patterns) {
    it(`stays sorted by (ts, seq) through block splits: ${name}`, () => {
      const rnd = seeded(name.length * 7919)
      const log = new SortedLog()
      const items = fill(log, 6000, (i) => nextTs(rnd, i))
      checkInvariants(log)
      expect(flatten(log)).toEqual(sorted(items))
      // A split leaves a block short of MAX_BLOCK somewhere before the last one.
      expect(log.blocks.slice(0, -1).some((b) => b.ts.length < MAX_BLOCK)).toBe(true)
      expect(log.oldest).toBe(Math.min(...items.map((e) => e.ts)))
      expect(log.newest).toBe(Math.max(...items.map((e) => e.ts)))
    })
  }

  it('splits a full block into two halves', () => {
    const log = new SortedLog()
    fill(log, MAX_BLOCK, (i) => i * 2 + 2) // one full block: 2, 4, ..., 2·MAX_BLOCK
    expect(log.blocks.length).toBe(1)
    log.insert(1, MAX_BLOCK + 1, 'late')
    expect(log.blocks.length).toBe(2)
    expect(log.blocks[0]!.ts.length + log.blocks[1]!.ts.length).toBe(MAX_BLOCK + 1)
    expect(log.blocks[0]!.ts[0]).toBe(1)
    expect(Math.abs(log.blocks[0]!.ts.length - log.blocks[1]!.ts.length)).toBeLessThanOrEqual(1)
    checkInvariants(log)
  })

  describe('positionAfter / positionBefore', () => {
    function buildRandomLog (seed: number): { log: SortedLog, items: Item[] } {
      const rnd = seeded(seed)
      const log = new SortedLog()
      // Timestamps 0..400 in steps of 2, so odd values fall between entries.
      const items = sorted(fill(log, 4000, () => rnd.int(0, 200) * 2))
      return { log, items }
    }

    const gt = (e: Item, t: number, s: number): boolean => e.ts > t || (e.ts === t && e.seq > s)
    const lt = (e: Item, t: number, s: number): boolean => e.ts < t || (e.ts === t && e.seq < s)

    it('agree with a linear scan for every kind of (ts, seq) pair', () => {
      for (const seed of [3, 4]) {
        const { log, items } = buildRandomLog(seed)
        expect(log.blocks.length).toBeGreaterThan(3)
        const rnd = seeded(seed + 100)
        const probes: Array<[number, number]> = []
        for (let t = -3; t <= 403; t++) probes.push([t, -Infinity], [t, Infinity])
        for (let k = 0; k < 500; k++) {
          const e = items[rnd.int(0, items.length - 1)]!
          probes.push([e.ts, e.seq], [e.ts, e.seq - 1], [e.ts, e.seq + 1], [e.ts, rnd.int(0, 5000)])
        }
        for (const [t, s] of probes) {
          const after = items.findIndex((e) => gt(e, t, s))
          expect(flatIndex(log, log.positionAfter(t, s)), `after (${t}, ${s})`).toBe(after === -1 ? items.length : after)
          let before = -1
          for (let i = items.length - 1; i >= 0; i--) {
            if (lt(items[i]!, t, s)) { before = i; break }
          }
          expect(flatIndex(log, log.positionBefore(t, s)), `before (${t}, ${s})`).toBe(before)
        }
      }
    })

    it('resume strictly after and strictly before an existing pair', () => {
      const log = new SortedLog()
      log.insert(10, 1, 'a')
      log.insert(10, 2, 'b')
      log.insert(10, 3, 'c')
      log.insert(20, 4, 'd')
      const at = (p: Position): string => log.blocks[p.block]!.msg[p.offset]!
      expect(at(log.positionAfter(10, 1))).toBe('b')
      expect(at(log.positionAfter(10, 3))).toBe('d')
      expect(at(log.positionAfter(10, -Infinity))).toBe('a')
      expect(at(log.positionAfter(9, Infinity))).toBe('a')
      expect(log.positionAfter(20, 4)).toEqual({ block: 1, offset: 0 }) // the end
      expect(at(log.positionBefore(10, 3))).toBe('b')
      expect(at(log.positionBefore(20, 4))).toBe('c')
      expect(at(log.positionBefore(10, Infinity))).toBe('c')
      expect(at(log.positionBefore(25, -Infinity))).toBe('d')
      expect(log.positionBefore(10, 1).block).toBe(-1)
    })

    it('walk across blocks when equal timestamps straddle a boundary', () => {
      const log = new SortedLog()
      const T = 5000
      // In order: 0, 1, ..., then a run of T that fills the end of block 0 and the start of block 1, then T + 1.
      const items = fill(log, MAX_BLOCK + 12, (i) => (i < MAX_BLOCK - 5 ? i : i < MAX_BLOCK + 11 ? T : T + 1))
      expect(log.blocks.length).toBe(2)
      expect(log.blocks[0]!.ts.slice(-5)).toEqual([T, T, T, T, T])
      expect(log.blocks[1]!.ts.slice(0, 11)).toEqual(Array(11).fill(T))
      const run = items.filter((e) => e.ts === T)
      for (const e of run) {
        const i = items.indexOf(e)
        expect(flatIndex(log, log.positionAfter(e.ts, e.seq))).toBe(i + 1)
        expect(flatIndex(log, log.positionBefore(e.ts, e.seq))).toBe(i - 1)
      }
      expect(flatIndex(log, log.positionAfter(T, -Infinity))).toBe(MAX_BLOCK - 5)
      expect(flatIndex(log, log.positionBefore(T, Infinity))).toBe(MAX_BLOCK + 10)
      expect(flatIndex(log, log.positionBefore(T, -Infinity))).toBe(MAX_BLOCK - 6)
      expect(flatIndex(log, log.positionAfter(T, Infinity))).toBe(MAX_BLOCK + 11)
    })
  })

  describe('purge', () => {
    it('drops whole blocks and trims the first block left', () => {
      const log = new SortedLog()
      const items = fill(log, 3000, (i) => i) // blocks [0..1023] [1024..2047] [2048..2999]
      expect(log.blocks.length).toBe(3)
      const secondBlock = log.blocks[1]
      expect(log.purge(1500)).toBe(1500)
      expect(log.blocks.length).toBe(2)
      expect(log.blocks[0]).toBe(secondBlock) // the same block, trimmed in place
      expect(log.blocks[0]!.ts[0]).toBe(1500)
      expect(log.size).toBe(1500)
      expect(log.oldest).toBe(1500)
      expect(log.newest).toBe(2999)
      expect(flatten(log)).toEqual(items.filter((e) => e.ts >= 1500))
      checkInvariants(log)
    })

    it('keeps entries exactly at the cutoff', () => {
      const log = new SortedLog()
      fill(log, 5, (i) => [10, 20, 20, 30, 40][i]!)
      expect(log.purge(20)).toBe(1)
      expect(flatten(log).map((e) => e.ts)).toEqual([20, 20, 30, 40])
    })

    it('drops a block whose newest entry is just under the cutoff, and nothing when the cutoff is old', () => {
      const log = new SortedLog()
      fill(log, 2 * MAX_BLOCK, (i) => i)
      expect(log.purge(0)).toBe(0)
      expect(log.purge(-Infinity)).toBe(0)
      expect(log.purge(MAX_BLOCK)).toBe(MAX_BLOCK)
      expect(log.blocks.length).toBe(1)
      expect(log.blocks[0]!.ts.length).toBe(MAX_BLOCK)
      checkInvariants(log)
    })

    it('empties the log when everything is older, and the log still works after', () => {
      const log = new SortedLog()
      fill(log, 2500, (i) => i)
      expect(log.purge(10_000)).toBe(2500)
      expect(log.size).toBe(0)
      expect(log.blocks).toEqual([])
      expect(log.maxTs).toEqual([])
      expect(log.oldest).toBeNaN()
      expect(log.newest).toBeNaN()
      log.insert(5, 9000, 'again')
      log.insert(3, 9001, 'earlier')
      expect(flatten(log).map((e) => e.msg)).toEqual(['earlier', 'again'])
      checkInvariants(log)
    })

    it('matches a reference filter on random logs and cutoffs', () => {
      const rnd = seeded(5)
      for (let round = 0; round < 20; round++) {
        const log = new SortedLog()
        let items = fill(log, rnd.int(0, 5000), () => rnd.int(0, 10_000))
        for (let cut = 0; cut < 4; cut++) {
          const cutoff = rnd.int(-100, 10_100)
          const expected = sorted(items).filter((e) => e.ts >= cutoff)
          expect(log.purge(cutoff)).toBe(items.length - expected.length)
          expect(flatten(log)).toEqual(expected)
          checkInvariants(log)
          items = expected
          // Keep inserting between purges, as a live shard does.
          const more = fill(log, rnd.int(0, 800), () => rnd.int(0, 12_000), 100_000 * (round + 1) + cut * 1000)
          items = items.concat(more)
        }
        expect(flatten(log)).toEqual(sorted(items))
      }
    })
  })
})
