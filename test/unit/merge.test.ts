import { describe, expect, it } from 'vitest'
import { before } from '../../src/core/order-heap.js'
import { mergeRuns, type Run } from '../../src/shards/merge.js'
import { byTsSeq, seeded } from './random.js'

interface Entry { ts: number, seq: number, tag: string }

/** A run over an array already sorted in the merge's order. */
class ArrayRun implements Run {
  ts: number
  seq: number
  i = 0

  constructor (readonly entries: Entry[]) {
    this.ts = entries[0]!.ts
    this.seq = entries[0]!.seq
  }

  get current (): Entry { return this.entries[this.i]! }

  advance (): boolean {
    if (++this.i >= this.entries.length) return false
    this.ts = this.entries[this.i]!.ts
    this.seq = this.entries[this.i]!.seq
    return true
  }
}

function order (entries: Entry[], descending: boolean): Entry[] {
  const out = [...entries].sort(byTsSeq)
  return descending ? out.reverse() : out
}

/** Runs mergeRuns over `lists` (each sorted here) and returns what it emitted and its count. */
function merge (lists: Entry[][], descending: boolean, limit: number): { out: Entry[], count: number } {
  const runs = lists.filter((l) => l.length > 0).map((l) => new ArrayRun(order(l, descending)))
  const out: Entry[] = []
  let misplaced = 0
  const count = mergeRuns(runs, descending, limit, (run) => {
    // emit sees the run positioned on the entry being emitted.
    if (run.ts !== run.current.ts || run.seq !== run.current.seq) misplaced++
    out.push(run.current)
  })
  expect(misplaced).toBe(0)
  return { out, count }
}

let nextSeq = 1
const e = (ts: number, tag = ''): Entry => ({ ts, seq: nextSeq++, tag })

describe('before', () => {
  it('orders by ts, then by seq', () => {
    expect(before(1, 9, 2, 0)).toBe(true)
    expect(before(2, 0, 1, 9)).toBe(false)
    expect(before(1, 1, 1, 2)).toBe(true)
    expect(before(1, 2, 1, 1)).toBe(false)
    expect(before(1, 1, 1, 1)).toBe(false)
  })
})

describe('mergeRuns', () => {
  it('emits nothing for an empty list of runs', () => {
    let called = false
    expect(mergeRuns([], false, 10, () => { called = true })).toBe(0)
    expect(mergeRuns([], true, 10, () => { called = true })).toBe(0)
    expect(called).toBe(false)
  })

  it('passes a single run through, up to the limit', () => {
    const list = [e(1), e(2), e(2), e(5)]
    expect(merge([list], false, 100)).toEqual({ out: list, count: 4 })
    expect(merge([list], false, 2)).toEqual({ out: list.slice(0, 2), count: 2 })
    expect(merge([list], true, 100)).toEqual({ out: [...list].reverse(), count: 4 })
  })

  it('emits nothing with limit 0', () => {
    expect(merge([[e(1)], [e(2)]], false, 0)).toEqual({ out: [], count: 0 })
  })

  it('interleaves runs by timestamp', () => {
    const a = [e(1, 'a1'), e(4, 'a4'), e(9, 'a9')]
    const b = [e(2, 'b2'), e(3, 'b3'), e(10, 'b10')]
    const c = [e(5, 'c5')]
    expect(merge([a, b, c], false, 100).out.map((x) => x.tag)).toEqual(['a1', 'b2', 'b3', 'a4', 'c5', 'a9', 'b10'])
    expect(merge([a, b, c], true, 100).out.map((x) => x.tag)).toEqual(['b10', 'a9', 'c5', 'a4', 'b3', 'b2', 'a1'])
  })

  it('breaks timestamp ties by seq, in both orders', () => {
    // Same timestamp in three runs; seq decides, whatever the run order.
    const x = { ts: 7, seq: 30, tag: 'x' }
    const y = { ts: 7, seq: 10, tag: 'y' }
    const z = { ts: 7, seq: 20, tag: 'z' }
    for (const lists of [[[x], [y], [z]], [[z], [x], [y]], [[y], [z], [x]]]) {
      expect(merge(lists, false, 10).out.map((v) => v.tag)).toEqual(['y', 'z', 'x'])
      expect(merge(lists, true, 10).out.map((v) => v.tag)).toEqual(['x', 'z', 'y'])
    }
  })

  it('stops at the limit and reports how many it emitted', () => {
    const a = [e(1), e(3), e(5)]
    const b = [e(2), e(4), e(6)]
    const { out, count } = merge([a, b], false, 4)
    expect(count).toBe(4)
    expect(out.map((v) => v.ts)).toEqual([1, 2, 3, 4])
    expect(merge([a, b], true, 4).out.map((v) => v.ts)).toEqual([6, 5, 4, 3])
    expect(merge([a, b], false, 100).count).toBe(6)
  })

  it('equals a reference sort of the concatenation for many random runs', () => {
    const rnd = seeded(99)
    for (let round = 0; round < 400; round++) {
      const k = rnd.int(1, 12)
      let seq = 0
      const all: Entry[] = []
      const lists: Entry[][] = Array.from({ length: k }, () => [])
      const n = rnd.int(0, 300)
      for (let i = 0; i < n; i++) {
        const entry = { ts: rnd.int(0, 40), seq: ++seq, tag: '' }
        all.push(entry)
        lists[rnd.int(0, k - 1)]!.push(entry)
      }
      const descending = rnd.int(0, 1) === 1
      const limit = rnd.int(0, 2) === 0 ? rnd.int(0, n + 5) : Infinity
      const expected = order(all, descending).slice(0, limit)
      const { out, count } = merge(lists, descending, limit)
      expect(out).toEqual(expected)
      expect(count).toBe(expected.length)
    }
  })
})
