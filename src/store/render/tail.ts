import { jsonEscape } from '../../core/json-text.js'
import type { BlockView, Pairs } from '../block.js'
import { ByteWriter } from '../bytes.js'
import type { TailFormat } from '../shard-messages.js'
import type { Stream } from '../stream.js'
import { writeLokiTailEntry } from './loki-streams.js'
import { writeNativeEntry } from './native-json.js'
import { writeTextEntry } from './text.js'

// A live tail's entries, rendered by the same writers as a query's (one
// renderer family): an arriving entry is held as a block view of one entry,
// its message and attribute strings JSON-escaped as a block holds them, and
// written whole in the tail's format, separators included, so the front
// writes a delivery's entries back to back.

/** The one entry a tail renders, as a block view (reused: set() replaces it). */
export class EntryView implements BlockView {
  readonly n = 1
  readonly ts = new Float64Array(1)
  readonly seq = new Float64Array(1)
  msg: Buffer = Buffer.alloc(0)
  readonly msgStart = new Uint32Array(1)
  readonly msgEnd = new Uint32Array(1)
  attrEnd: Uint32Array | null = null
  attrKey = new Uint32Array(8)
  attrVal = new Uint32Array(8)
  dict: string[] = []
  private readonly text = new ByteWriter(1024)
  private readonly pairs = new Uint32Array(1)

  set (ts: number, seq: number, message: string, attrs: Pairs | null): void {
    this.ts[0] = ts
    this.seq[0] = seq
    const w = this.text
    w.length = 0
    w.utf8(jsonEscape(message))
    this.msg = w.buf
    this.msgEnd[0] = w.length
    if (attrs === null || attrs.length === 0) {
      this.attrEnd = null
      return
    }
    const n = attrs.length / 2
    if (this.attrKey.length < n) {
      this.attrKey = new Uint32Array(n)
      this.attrVal = new Uint32Array(n)
    }
    // The dictionary is the pairs' strings in order: key k at 2k, its value at 2k + 1.
    this.dict = attrs.map(jsonEscape)
    for (let p = 0; p < n; p++) {
      this.attrKey[p] = 2 * p
      this.attrVal[p] = 2 * p + 1
    }
    this.pairs[0] = n
    this.attrEnd = this.pairs
  }
}

/** Where cursors are spelled before base64url (what encodeCursor makes, without its allocations). */
const cursorScratch = Buffer.alloc(64)
const DATA = Buffer.from('\ndata: ')
const SSE_END = Buffer.from('\n\n')

type TailWriter = (w: ByteWriter, stream: Stream, v: EntryView) => void

const TAIL_WRITERS: Record<TailFormat, TailWriter> = {
  /** An SSE event: `id: <cursor>` then `data: {...}` in GET /logs's shape, ending with a blank line. */
  sse: (w, stream, v) => {
    const n = cursorScratch.write(`v1:a:${v.ts[0]!}:${v.seq[0]!}`, 'latin1')
    w.ascii('id: ')
    w.ascii(cursorScratch.toString('base64url', 0, n))
    w.bytes(DATA)
    writeNativeEntry(w, stream, v, 0)
    w.bytes(SSE_END)
  },
  /** One NDJSON line. */
  ndjson: (w, stream, v) => {
    writeNativeEntry(w, stream, v, 0)
    w.byte(10)
  },
  /** One text line, as GET /logs?format=text writes it. */
  text: (w, stream, v) => {
    writeTextEntry(w, stream, v, 0)
    w.byte(10)
  },
  /** A Loki tail stream of one value. */
  loki: (w, stream, v) => writeLokiTailEntry(w, stream, v, 0)
}

const out = new ByteWriter(4096)

/** The entry `v` holds (of `stream`), whole in `format`, as its own bytes. */
export function renderTailEntry (format: TailFormat, stream: Stream, v: EntryView): Buffer {
  out.length = 0
  TAIL_WRITERS[format](out, stream, v)
  // From the shared pool: pieces are small and live until the next poll.
  const body = Buffer.allocUnsafe(out.length)
  out.buf.copy(body, 0, 0, out.length)
  return body
}
