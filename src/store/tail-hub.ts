import type { LogSelection } from '../logql/ast.js'
import { compileSelection, type CompiledSelection } from '../logql/match.js'
import { jsonString } from '../json-text.js'
import type { QueryPart, TailBatch, TailFormat } from '../protocol.js'
import { formatTimestamp } from '../timestamp.js'
import type { Pairs } from './block.js'
import { ByteWriter } from './bytes.js'
import type { Stream } from './stream.js'

// Live tails on a shard: each new entry is matched here, where it is stored,
// against the tails that want it, and rendered here too, in the tail's own
// format (an SSE event, an NDJSON or text line, or a Loki tail stream), so the front thread only
// merges the shards' bytes and writes them out at its next poll.
// Which tails a stream's entries can reach is worked out once per stream (and
// again after a tail comes or goes), so an entry of a stream no tail selects
// costs one map lookup, and a shard without tails does nothing at all.
//
// Buffers are bounded: past `limit` entries waiting for one tail, entries are
// dropped for that tail only, counted, and the first few named in the next
// poll's answer (Loki's dropped_entries).

/** Dropped entries named per tail per poll; the rest are only counted. */
const NAMED_DROPS = 100

export type { TailFormat }

class Tail {
  readonly selection: CompiledSelection
  private w = new ByteWriter(16 * 1024)
  private ts: number[] = []
  private seq: number[] = []
  private ends: number[] = []
  dropped = 0
  droppedNamed: Array<{ labels: string[], ts: number }> = []

  constructor (readonly id: number, select: LogSelection, readonly limit: number, private readonly format: TailFormat) {
    this.selection = compileSelection(select)
  }

  get waiting (): number { return this.ts.length }

  offer (stream: Stream, labels: string[], ts: number, seq: number, message: string, attrs: Pairs | null): void {
    if (this.selection.entry !== null) {
      const label = (name: string): string => {
        const own = stream.labelValue(name)
        if (own !== '' || attrs === null) return own
        for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === name) return attrs[i + 1]!
        return ''
      }
      if (!this.selection.entry(message, label)) return
    }
    if (this.ts.length >= this.limit) {
      this.dropped++
      if (this.droppedNamed.length < NAMED_DROPS) this.droppedNamed.push({ labels, ts })
      return
    }
    const w = this.w
    if (this.ts.length > 0) w.byte(44) // ',' between entries, as in a query part
    RENDER[this.format](w, stream, ts, seq, message, attrs)
    this.ts.push(ts)
    this.seq.push(seq)
    this.ends.push(w.length)
  }

  /** What waits, as a query part (entries in arrival order), and empties it. */
  take (): QueryPart {
    const body = new Uint8Array(this.w.length)
    body.set(this.w.buf.subarray(0, this.w.length))
    const part: QueryPart = { ts: Float64Array.from(this.ts), seq: Float64Array.from(this.seq), body, ends: Uint32Array.from(this.ends), complete: true, scanned: 0 }
    // A writer that grew for a burst is let go rather than kept at its size.
    this.w = this.w.buf.length > 1024 * 1024 ? new ByteWriter(16 * 1024) : this.w
    this.w.length = 0
    this.ts = []
    this.seq = []
    this.ends = []
    return part
  }
}

/** The attributes that are not also stream labels, as JSON members (`"k":"v"`, comma-separated). */
function attributeMembers (stream: Stream, attrs: Pairs | null): string {
  if (attrs === null) return ''
  let out = ''
  for (let i = 0; i < attrs.length; i += 2) {
    if (stream.labels.length > 0 && stream.label(attrs[i]!) !== undefined) continue
    out += `${out === '' ? '' : ','}${jsonString(attrs[i]!)}:${jsonString(attrs[i + 1]!)}`
  }
  return out
}

/** Where cursors are spelled before base64url (what encodeCursor makes, without its allocations). */
const cursorScratch = Buffer.alloc(64)

/** An entry in GET /logs's JSON shape: `{"service","timestamp","message","attributes"?}`. */
function entryJson (stream: Stream, ts: number, message: string, attrs: Pairs | null): string {
  const members = attributeMembers(stream, attrs)
  const attributes = stream.labelsJson === '' && members === ''
    ? ''
    : `,"attributes":{${stream.labelsJson}${stream.labelsJson !== '' && members !== '' ? ',' : ''}${members}}`
  return `{"service":${stream.serviceJson},"timestamp":"${formatTimestamp(ts)}","message":${jsonString(message)}${attributes}}`
}

type Render = (w: ByteWriter, stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null) => void

/**
 * Each tail format, rendered whole (separators included) so the front writes
 * a delivery's entries back to back. Each is built as one string and written
 * once: most of the cost of a small render is in the writes.
 */
const RENDER: Record<TailFormat, Render> = {
  /** An SSE event: `id: <cursor>` then `data: {...}`, ending with a blank line. */
  sse: (w, stream, ts, seq, message, attrs) => {
    const n = cursorScratch.write(`v1:a:${ts}:${seq}`, 'latin1')
    w.utf8(`id: ${cursorScratch.toString('base64url', 0, n)}\ndata: ${entryJson(stream, ts, message, attrs)}\n\n`)
  },
  /** One NDJSON line. */
  ndjson: (w, stream, ts, _seq, message, attrs) => { w.utf8(`${entryJson(stream, ts, message, attrs)}\n`) },
  /** One text line, as GET /logs?format=text writes it: newlines in the message as \n. */
  text: (w, stream, ts, _seq, message) => {
    w.utf8(`${formatTimestamp(ts)} ${stream.service} ${message.replace(/\r/g, '\\r').replace(/\n/g, '\\n')}\n`)
  },
  /** A Loki tail stream with one value: `{"stream":{labels and metadata},"values":[["<ns>","<line>"]]}`. */
  loki: (w, stream, ts, _seq, message, attrs) => {
    const members = attributeMembers(stream, attrs)
    const labels = `"service":${stream.serviceJson}${stream.labelsJson === '' ? '' : `,${stream.labelsJson}`}${members === '' ? '' : `,${members}`}`
    w.utf8(`{"stream":{${labels}},"values":[["${ts}000",${jsonString(message)}]]}`)
  }
}

export class TailHub {
  private readonly tails = new Map<number, Tail>()
  /** Bumped whenever a tail comes or goes, so each stream's list is worked out again. */
  private generation = 0
  private readonly reach = new WeakMap<Stream, { generation: number, tails: Tail[], labels: string[] }>()

  get active (): boolean { return this.tails.size > 0 }

  subscribe (id: number, select: LogSelection, limit: number, format: TailFormat): void {
    this.tails.set(id, new Tail(id, select, limit, format))
    this.generation++
  }

  unsubscribe (id: number): void {
    if (this.tails.delete(id)) this.generation++
  }

  /** A new entry of `stream`, just stored. */
  offer (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null): void {
    let r = this.reach.get(stream)
    if (r === undefined || r.generation !== this.generation) {
      const tails = [...this.tails.values()].filter((t) => t.selection.stream((name) => stream.labelValue(name)))
      r = { generation: this.generation, tails, labels: ['service', stream.service, ...stream.labels] }
      this.reach.set(stream, r)
    }
    for (const t of r.tails) t.offer(stream, r.labels, ts, seq, message, attrs)
  }

  /** What each of `ids` got since the last poll (emptied), and the ids this shard does not know (it restarted). */
  poll (ids: readonly number[]): { batches: TailBatch[], unknown: number[] } {
    const batches: TailBatch[] = []
    const unknown: number[] = []
    for (const id of ids) {
      const t = this.tails.get(id)
      if (t === undefined) {
        unknown.push(id)
        continue
      }
      if (t.waiting === 0 && t.dropped === 0) continue
      batches.push({ id, part: t.take(), dropped: t.dropped, droppedNamed: t.droppedNamed })
      t.dropped = 0
      t.droppedNamed = []
    }
    return { batches, unknown }
  }
}
