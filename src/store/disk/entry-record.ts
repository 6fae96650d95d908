import type { Pairs } from '../block.js'
import { ByteReader, ByteWriter } from '../bytes.js'
import { FRAME_HEADER, sealFrame } from './record-frame.js'

// The payload of a write-ahead log record: the entries one ingest request
// stored, as the shard stored them (after parsing, validation and routing),
// so replaying a record stores exactly what was acknowledged.
//
//   payload = ENTRIES_V1 | op*
//   op      = DEFINE_STREAM service labelCount label*      (stream i is the i-th defined in this record)
//           | ENTRY streamIndex zigzag(ts) seq message attrCount attr*
//   strings are u32 byte length + UTF-8; numbers varints (ts in µs, seq whole numbers)

const ENTRIES_V1 = 1
const DEFINE_STREAM = 1
const ENTRY = 2

/** Builds one record's frame (header reserved in front, see record-frame.ts). */
export class EntryRecordWriter {
  private readonly w: ByteWriter
  /** Stream (any object naming one, the store's Stream) → its index in this record. */
  private readonly ids = new Map<object, number>()
  count = 0

  /** `sizeHint`: the bytes the record will likely take (e.g. the request's text), so the buffer is not grown many times. */
  constructor (sizeHint = 1024) {
    this.w = new ByteWriter(FRAME_HEADER + sizeHint)
    this.w.length = FRAME_HEADER
    this.w.byte(ENTRIES_V1)
  }

  entry (stream: object, service: string, labels: Pairs, ts: number, seq: number, message: string, attrs: Pairs | null): void {
    const w = this.w
    let id = this.ids.get(stream)
    if (id === undefined) {
      id = this.ids.size
      this.ids.set(stream, id)
      w.byte(DEFINE_STREAM)
      w.str(service)
      w.varint(labels.length)
      for (const s of labels) w.str(s)
    }
    w.byte(ENTRY)
    w.varint(id)
    w.zigzag(ts)
    w.varint(seq)
    w.str(message)
    if (attrs === null) {
      w.varint(0)
    } else {
      w.varint(attrs.length)
      for (const s of attrs) w.str(s)
    }
    this.count++
  }

  /** The framed record, ready to append: a view of this writer's buffer (write no more entries after). */
  frame (): Buffer {
    return sealFrame(this.w.view())
  }
}

export interface EntryVisitor {
  /** Stream `index` of this record is (service, labels). */
  stream (index: number, service: string, labels: Pairs): void
  entry (streamIndex: number, ts: number, seq: number, message: string, attrs: Pairs | null): void
}

/** Calls `visit` for each stream and entry of a record's payload; throws RangeError on a payload it cannot read. */
export function readEntryRecord (payload: Buffer, visit: EntryVisitor): number {
  const r = new ByteReader(payload)
  const kind = r.byte()
  if (kind !== ENTRIES_V1) throw new RangeError(`unknown record kind ${kind}`)
  let streams = 0
  let entries = 0
  while (r.left > 0) {
    const op = r.byte()
    if (op === DEFINE_STREAM) {
      const service = r.str()
      const n = r.varint()
      const labels: string[] = []
      for (let i = 0; i < n; i++) labels.push(r.str())
      visit.stream(streams++, service, labels)
    } else if (op === ENTRY) {
      const stream = r.varint()
      if (stream >= streams) throw new RangeError(`entry of undefined stream ${stream}`)
      const ts = r.zigzag()
      const seq = r.varint()
      const message = r.str()
      const n = r.varint()
      let attrs: string[] | null = null
      if (n > 0) {
        attrs = []
        for (let i = 0; i < n; i++) attrs.push(r.str())
      }
      visit.entry(stream, ts, seq, message, attrs)
      entries++
    } else {
      throw new RangeError(`unknown op ${op}`)
    }
  }
  return entries
}
