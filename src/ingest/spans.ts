import { shardOf } from '../core/hash.js'

// A push body (Loki protobuf, OTLP protobuf) split by stream for the shards
// to decode: the front checks the body's wire format, finds each stream's (or
// resource's) bytes and service, and sends each to the shard of its service.

/** One stream of a push body: its bytes, its service, how many entries it holds, and where it is in the request. */
export interface StreamSpan { start: number, end: number, service: string, entries: number, ordinal: number }

/** The streams of a push body bound for one shard: their byte ranges in the body, the request index of each one's first entry and its ordinal. */
export interface StreamShare { starts: number[], ends: number[], first: number[], ordinals: number[], entries: number, bytes: number }

/** Sends each stream to the shard of its service; streams without entries go nowhere. */
export function routeSpans (spans: readonly StreamSpan[], shards: number): { perShard: StreamShare[], total: number } {
  const perShard: StreamShare[] = Array.from({ length: shards }, () => ({ starts: [], ends: [], first: [], ordinals: [], entries: 0, bytes: 0 }))
  let total = 0
  for (const span of spans) {
    if (span.entries === 0) continue
    const share = perShard[shardOf(span.service, shards)]!
    share.starts.push(span.start)
    share.ends.push(span.end)
    share.first.push(total)
    share.ordinals.push(span.ordinal)
    share.entries += span.entries
    share.bytes += span.end - span.start
    total += span.entries
  }
  return { perShard, total }
}
