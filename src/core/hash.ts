/**
 * The services a shard owns: those whose hash partition, shardOf(service,
 * partitions), is one of `owned`. Given to the shard when it starts (it never
 * works it out from where it sits), so it can tell a line that was routed to
 * it wrongly. Today shard i of N owns partition i of N (server.ts).
 */
export interface ServiceOwnership {
  partitions: number
  owned: number[]
}

/** FNV-1a over the UTF-16 code units of `s`: stable across runs and machines. */
export function fnv1a (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The shard, 0 to shards − 1, that owns `service`. */
export function shardOf (service: string, shards: number): number {
  return fnv1a(service) % shards
}

/** What shard `shard` of `shards` owns: the partition of its number (so shardOf() names the owner). */
export function ownershipOf (shard: number, shards: number): ServiceOwnership {
  return { partitions: shards, owned: [shard] }
}

/** A test for whether a service is owned, built once (it runs for every line a shard parses). */
export function ownerTest (owns: ServiceOwnership): (service: string) => boolean {
  const { partitions, owned } = owns
  if (owned.length === 1) {
    const only = owned[0]
    return (service) => shardOf(service, partitions) === only
  }
  const set = new Set(owned)
  return (service) => set.has(shardOf(service, partitions))
}
