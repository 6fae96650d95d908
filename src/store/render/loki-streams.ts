import { jsonString, jsonUnescape } from '../../core/json-text.js'
import { lineFields } from '../../logql/match.js'
import { applyLabelStages, formatLine, type LabelStages } from '../../logql/stages.js'
import type { BlockView } from '../block.js'
import type { ByteWriter } from '../bytes.js'
import { EntryLabels } from '../entry-labels.js'
import type { Stream } from '../stream.js'
import { JoinedRenderer, writeAttrMembers } from './renderer.js'

// Entries of a Loki log query (query_range, query) rendered for the answer
// itself: each is its result stream's labels as a JSON object, a 0 byte, and
// its value `["<unix ns>","<line>"]` (with `{"structuredMetadata": …}` third
// under categorize-labels). The front groups entries by the labels' bytes and
// writes both parts as they are (http/loki-query-route.ts): nothing is parsed
// or rendered again there. The query's parser, drop / keep and line_format
// run here, on the shard.

/** How the shard shapes a Loki log query's entries. */
export interface LokiShape {
  parser?: 'json' | 'logfmt'
  labelStages: LabelStages
  lineFormat?: string
  /** Grafana's categorize-labels flag: attributes go in structuredMetadata, not among the stream's labels. */
  categorize: boolean
}

/** `labels` with the members of `more` it does not have yet. */
function under (labels: Record<string, string>, more: Record<string, string> | null): Record<string, string> {
  if (more !== null) for (const key in more) if (!(key in labels)) labels[key] = more[key]!
  return labels
}

/** Separates an entry's labels from its value; JSON text never holds a raw 0 byte. */
export const LABELS_END = 0

export class LokiStreamsRenderer extends JoinedRenderer {
  private readonly labels: EntryLabels
  /** Whether entries can be written from their stored bytes alone (no parser, no stages, no line_format). */
  private readonly plain: boolean

  constructor (private readonly shape: LokiShape) {
    super()
    this.labels = new EntryLabels(shape.parser)
    this.plain = shape.parser === undefined && shape.labelStages.length === 0 && shape.lineFormat === undefined
  }

  add (stream: Stream, v: BlockView, i: number): void {
    if (this.plain) this.addPlain(stream, v, i)
    else this.addShaped(stream, v, i)
  }

  /** From the stored bytes: the stream's labels (and, without categorize, the attributes that no stream label shadows), the escaped line. */
  private addPlain (stream: Stream, v: BlockView, i: number): void {
    const w = this.open()
    const from = v.attrEnd === null || i === 0 ? 0 : v.attrEnd[i - 1]!
    const to = v.attrEnd === null ? 0 : v.attrEnd[i]!
    writeStreamLabels(w, stream, v, from, this.shape.categorize ? from : to)
    w.byte(LABELS_END)
    writeValue(w, v, i)
    if (this.shape.categorize) {
      w.ascii(',{')
      if (from < to) {
        w.ascii('"structuredMetadata":{')
        writeAttrMembers(w, v, from, to)
        w.byte(125)
      }
      w.byte(125)
    }
    w.byte(93)
    this.close()
  }

  /** With a parser, drop / keep or line_format: the labels as objects, then written. */
  private addShaped (stream: Stream, v: BlockView, i: number): void {
    const { shape } = this
    const line = jsonUnescape(v.msg, v.msgStart[i]!, v.msgEnd[i]!)
    const own = EntryLabels.ofStream(stream)
    const attrs = this.labels.attributes(v, i)
    const fields = shape.parser === undefined ? null : lineFields(shape.parser, line)
    // An earlier source keeps its value: stream labels, then attributes, then the line's fields.
    const all = under(under({ ...own }, attrs), fields)
    const labels = shape.categorize ? under(own, fields) : all
    const text = shape.lineFormat === undefined ? line : formatLine(shape.lineFormat, all)
    const w = this.open()
    w.utf8(JSON.stringify(applyLabelStages(labels, shape.labelStages)))
    w.byte(LABELS_END)
    w.ascii('["')
    w.ascii(String(v.ts[i]!))
    w.ascii('000",')
    w.utf8(jsonString(text))
    if (shape.categorize) w.utf8(attrs === null ? ',{}' : `,${JSON.stringify({ structuredMetadata: attrs })}`)
    w.byte(93)
    this.close()
  }
}

/** A stream's labels as a JSON object, then the attributes of pairs [from, to) that no stream label (nor service) shadows. */
function writeStreamLabels (w: ByteWriter, stream: Stream, v: BlockView, from: number, to: number): void {
  w.ascii('{"service":')
  w.bytes(stream.serviceJsonBytes)
  if (stream.labelsJson !== '') {
    w.byte(44)
    w.bytes(stream.labelsJsonBytes)
  }
  for (let p = from; p < to; p++) {
    const key = v.dict[v.attrKey[p]!]!
    if (key === 'service' || stream.labelKeysJson?.has(key) === true) continue
    w.ascii(',"')
    w.utf8(key)
    w.ascii('":"')
    w.utf8(v.dict[v.attrVal[p]!]!)
    w.byte(34)
  }
  w.byte(125)
}

/** `["<unix ns>","<line>"` of entry `i`, from its stored bytes (the array left open). */
function writeValue (w: ByteWriter, v: BlockView, i: number): void {
  w.ascii('["')
  // Microseconds, so the nanoseconds end in 000; timestamps are positive integers.
  w.ascii(String(v.ts[i]!))
  w.ascii('000","')
  w.bytes(v.msg, v.msgStart[i], v.msgEnd[i])
  w.byte(34)
}

/** Entry `i` of `v` as a Loki tail stream of one value: `{"stream":{labels and attributes},"values":[["<ns>","<line>"]]}`. */
export function writeLokiTailEntry (w: ByteWriter, stream: Stream, v: BlockView, i: number): void {
  w.ascii('{"stream":')
  writeStreamLabels(w, stream, v, v.attrEnd === null || i === 0 ? 0 : v.attrEnd[i - 1]!, v.attrEnd === null ? 0 : v.attrEnd[i]!)
  w.ascii(',"values":[')
  writeValue(w, v, i)
  w.ascii(']]}')
}
