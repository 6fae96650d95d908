// Deterministic pseudo-random numbers for the unit tests (mulberry32): every
// "random" test draws from a fixed seed, so a failure reproduces exactly.

export interface Random {
  /** A float in [0, 1). */
  next: () => number
  /** An integer in [lo, hi], both inclusive. */
  int: (lo: number, hi: number) => number
  /** One element of `items`. */
  pick: <T>(items: readonly T[]) => T
}

export function seeded (seed: number): Random {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!
  return { next, int, pick }
}

/** Ascending (ts, seq) comparison, the total order every store and merge uses. */
export function byTsSeq (a: { ts: number, seq: number }, b: { ts: number, seq: number }): number {
  return a.ts - b.ts || a.seq - b.seq
}
