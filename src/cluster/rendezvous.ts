import { fnv1a } from '../core/hash.js'

// Rendezvous (highest random weight) hashing: each partition goes to the live
// member with the highest weight(member, partition). A member that joins
// takes only the partitions it now weighs most for; one that leaves gives
// up only its own, each to its runner-up. Every instance computes the same
// answer from the same member list, with no coordination.

/** murmur3's 32-bit finalizer: FNV-1a alone leaves similar names with similar weights. */
function mix (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export function weight (member: string, partition: number): number {
  return mix(fnv1a(`${member}\u0000${partition}`))
}

/** The member that should own `partition`, or null when there is none; ties go to the smaller name. */
export function ownerOf (partition: number, members: readonly string[]): string | null {
  let best: string | null = null
  let bestWeight = -1
  for (const m of members) {
    const w = weight(m, partition)
    if (w > bestWeight || (w === bestWeight && best !== null && m < best)) {
      best = m
      bestWeight = w
    }
  }
  return best
}

/** The partitions `member` should own among `partitions`, given the live members (itself included). */
export function partitionsOf (member: string, members: readonly string[], partitions: number): number[] {
  const out: number[] = []
  for (let p = 0; p < partitions; p++) if (ownerOf(p, members) === member) out.push(p)
  return out
}
