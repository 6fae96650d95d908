import { describe, expect, it } from 'vitest'
import { ownerOf, partitionsOf } from '../../../src/cluster/rendezvous.js'

const members = (n: number): string[] => Array.from({ length: n }, (_, i) => `m-${i.toString(16)}${'abc'.repeat(i % 3)}`)

describe('rendezvous hashing', () => {
  it('gives every partition one owner among the members, the same whatever their order', () => {
    const list = members(5)
    for (let p = 0; p < 64; p++) {
      const owner = ownerOf(p, list)
      expect(list).toContain(owner)
      expect(ownerOf(p, [...list].reverse())).toBe(owner)
    }
    expect(ownerOf(3, [])).toBeNull()
  })

  it('spreads 32 partitions over 3 members with none left out or idle', () => {
    const list = members(3)
    const counts = list.map((m) => partitionsOf(m, list, 32).length)
    expect(counts.reduce((a, b) => a + b, 0)).toBe(32)
    for (const c of counts) expect(c).toBeGreaterThan(3)
  })

  it('moves only the partitions of a member that leaves, and only to a member that joins', () => {
    const before = members(4)
    const owners = Array.from({ length: 256 }, (_, p) => ownerOf(p, before))
    const gone = before[1]!
    const after = before.filter((m) => m !== gone)
    for (let p = 0; p < 256; p++) {
      if (owners[p] !== gone) expect(ownerOf(p, after), `partition ${p}`).toBe(owners[p])
      else expect(ownerOf(p, after)).not.toBe(gone)
    }
    const joined = [...before, 'm-new']
    let moved = 0
    for (let p = 0; p < 256; p++) {
      const now = ownerOf(p, joined)
      if (now !== owners[p]) {
        expect(now).toBe('m-new')
        moved++
      }
    }
    expect(moved).toBeGreaterThan(0)
    expect(moved).toBeLessThan(256 / 2)
  })
})
