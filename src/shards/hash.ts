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
