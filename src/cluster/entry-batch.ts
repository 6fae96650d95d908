import type { EntrySink } from '../ingest/shard-ingest.js'
import type { LogRecord } from '../ingest/record.js'
import { pack, unpack } from './wire.js'

// A partition's entries as one JetStream message: columns, as an IngestBatch
// is, in msgpack (wire.ts). The front builds them as a shard's sink would
// (putLines / putStreams put into an EntrySink), so the front validates and
// decodes exactly as the shards do; the owner reads them back into records.

/** One message's entries. Entry i is of stream idx[i]; its attributes are the next attrCount[i] pairs. */
interface WireBatch {
  v: 1
  /** [service, labels] of each distinct stream. */
  s: Array<[string, string[]]>
  idx: Uint32Array
  ts: Float64Array
  msg: string[]
  ac: Uint32Array
  at: string[]
}

/**
 * A message stays below this many bytes (NATS's max_payload is 1 MiB by
 * default); a larger request is cut into several messages of its partition.
 */
export const MESSAGE_BYTES = 512 * 1024
/** At most this many entries a message, so stream sequence × SEQ_SPAN + index is a unique seq (seqOf). */
export const SEQ_SPAN = 2 ** 20
const MAX_ENTRIES = 65_536

/** The arrival sequence number of entry `index` of stream message `streamSeq`: rising with the stream, the same on every instance. */
export function seqOf (streamSeq: number, index: number): number {
  return streamSeq * SEQ_SPAN + index
}

class Chunk {
  readonly streams: Array<[string, string[]]> = []
  readonly keys = new Map<string, number>()
  readonly idx: number[] = []
  readonly ts: number[] = []
  readonly msg: string[] = []
  readonly ac: number[] = []
  readonly at: string[] = []
  bytes = 0
}

/** Collects entries into messages of at most MESSAGE_BYTES; an EntrySink for putLines / putStreams. */
export class BatchWriter implements EntrySink<string> {
  private readonly chunks: Chunk[] = [new Chunk()]

  get count (): number {
    let n = 0
    for (const c of this.chunks) n += c.ts.length
    return n
  }

  streamFor (service: string, labels: string[]): string {
    // The stream's key, the handle put() is given back.
    return labels.length === 0 ? service : `${service}\u0000${labels.join('\u0000')}`
  }

  put (stream: string, ts: number, _seq: number, message: string, attrs: string[] | null): void {
    let chunk = this.chunks[this.chunks.length - 1]!
    let size = 16 + message.length * 3
    if (attrs !== null) for (const a of attrs) size += a.length * 3 + 2
    if (chunk.ts.length > 0 && (chunk.bytes + size > MESSAGE_BYTES || chunk.ts.length >= MAX_ENTRIES)) this.chunks.push(chunk = new Chunk())
    let i = chunk.keys.get(stream)
    if (i === undefined) {
      i = chunk.streams.length
      const [service, ...labels] = stream.split('\u0000')
      chunk.streams.push([service!, labels])
      chunk.keys.set(stream, i)
      size += stream.length * 3
    }
    chunk.idx.push(i)
    chunk.ts.push(ts)
    chunk.msg.push(message)
    chunk.ac.push(attrs === null ? 0 : attrs.length / 2)
    if (attrs !== null) for (const a of attrs) chunk.at.push(a)
    chunk.bytes += size
  }

  add (record: LogRecord): void {
    this.put(this.streamFor(record.service, record.labels ?? []), record.ts, 0, record.message, record.attributes)
  }

  /** The messages, in entry order; none when nothing was put. */
  messages (): Uint8Array[] {
    return this.chunks.filter((c) => c.ts.length > 0).map((c) => pack({
      v: 1, s: c.streams, idx: Uint32Array.from(c.idx), ts: Float64Array.from(c.ts), msg: c.msg, ac: Uint32Array.from(c.ac), at: c.at
    } satisfies WireBatch))
  }
}

/** A message's entries as records, in order. Throws on a message that is not one of ours. */
export function readBatch (bytes: Uint8Array): LogRecord[] {
  const b = unpack<WireBatch>(bytes)
  if (b === null || typeof b !== 'object' || b.v !== 1 || !(b.ts instanceof Float64Array)) throw new Error('not a logagg entry batch (version 1)')
  const out: LogRecord[] = new Array(b.ts.length)
  let a = 0
  for (let i = 0; i < b.ts.length; i++) {
    const [service, labels] = b.s[b.idx[i]!]!
    const n = b.ac[i]!
    out[i] = { service, labels: labels.length === 0 ? null : labels, ts: b.ts[i]!, message: b.msg[i]!, attributes: n === 0 ? null : b.at.slice(a, a += 2 * n) }
  }
  return out
}
