import { jsonString, jsonUnescape } from '../../core/json-text.js'
import { lineFields } from '../../logql/match.js'
import { applyLabelStages, formatLine, type LabelStages } from '../../logql/stages.js'
import type { BlockView } from '../block.js'
import { ByteWriter } from '../bytes.js'
import { EntryLabels } from '../entry-labels.js'
import { TENANT_LABEL, type Stream } from '../stream.js'
import { JoinedRenderer, writeAttrMember, writeAttrMembers, type Rendered } from './renderer.js'

// Entries of a Loki log query (query_range, query) rendered for the answer
// itself: each entry's value `["<unix ns>","<line>"]` (with
// `{"structuredMetadata": …}` third under categorize-labels) and its result
// stream's labels as a JSON object, either as an index into the part's label
// sets (query answers) or written before the value and a 0 byte (tails'
// replay). The front groups and writes them as they are
// (shards/loki-streams-page.ts): nothing is parsed or rendered again there.
// The query's parser, drop / keep and line_format run here, on the shard.

/** How the shard shapes a Loki log query's entries. */
export interface LokiShape {
  parser?: 'json' | 'logfmt'
  labelStages: LabelStages
  lineFormat?: string
  /** Grafana's categorize-labels flag: attributes go in structuredMetadata, not among the stream's labels. */
  categorize: boolean
  /** A query across tenants: each stream's labels carry its __tenant_id__ (the router sets it). */
  tenantLabel?: boolean
}

/** `labels` with the members of `more` it does not have yet. */
function under (labels: Record<string, string>, more: Record<string, string> | null): Record<string, string> {
  if (more !== null) for (const key in more) if (!(key in labels)) labels[key] = more[key]!
  return labels
}

const SERVICE_OPEN = Buffer.from('{"service":')
const VALUE_OPEN = Buffer.from('["')
const NS_LINE = Buffer.from('000","')

/** Separates an entry's labels from its value; JSON text never holds a raw 0 byte. */
export const LABELS_END = 0

/**
 * Writes a Loki log query's entries. Joined (tails' replay): each entry is
 * its labels, a 0 byte and its value. Grouped (query answers): each entry is
 * its value alone, and its labels an index into the part's table of label
 * sets, so the front groups entries by a number and copies the values of
 * consecutive entries of one stream as one byte range.
 */
export class LokiStreamsRenderer extends JoinedRenderer {
  private readonly labels: EntryLabels
  /** Whether entries can be written from their stored bytes alone (no parser, no stages, no line_format). */
  private readonly plain: boolean
  /** Grouped: label sets by their text, each stream's own (entries with no attribute shown), and each entry's index. */
  private readonly ids = new Map<string, number>()
  private readonly table: string[] = []
  private readonly streamIds = new Map<Stream, number>()
  private readonly of: number[] = []
  private readonly scratch = new ByteWriter(256)

  constructor (private readonly shape: LokiShape, private readonly grouped = false) {
    super()
    this.labels = new EntryLabels(shape.parser)
    this.plain = shape.parser === undefined && shape.labelStages.length === 0 && shape.lineFormat === undefined
  }

  add (stream: Stream, v: BlockView, i: number): void {
    if (this.plain) this.addPlain(stream, v, i)
    else this.addShaped(stream, v, i)
  }

  private idOf (labels: string): number {
    let id = this.ids.get(labels)
    if (id === undefined) {
      id = this.table.length
      this.table.push(labels)
      this.ids.set(labels, id)
    }
    return id
  }

  /** From the stored bytes: the stream's labels (and, without categorize, the attributes that no stream label shadows), the escaped line. */
  private addPlain (stream: Stream, v: BlockView, i: number): void {
    const from = v.attrEnd === null || i === 0 ? 0 : v.attrEnd[i - 1]!
    const to = v.attrEnd === null ? 0 : v.attrEnd[i]!
    const shownTo = this.shape.categorize ? from : to
    let w: ByteWriter
    if (this.grouped) {
      let id = shownTo === from ? this.streamIds.get(stream) : undefined
      if (id === undefined) {
        const lw = this.scratch
        lw.length = 0
        writeStreamLabels(lw, stream, v, from, shownTo, this.shape.tenantLabel === true)
        id = this.idOf(lw.buf.toString('utf8', 0, lw.length))
        if (shownTo === from) this.streamIds.set(stream, id)
      }
      this.of.push(id)
      w = this.open()
    } else {
      w = this.open()
      writeStreamLabels(w, stream, v, from, shownTo, this.shape.tenantLabel === true)
      w.byte(LABELS_END)
    }
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
    const own = EntryLabels.ofStream(stream, shape.tenantLabel === true)
    const attrs = this.labels.attributes(v, i)
    const fields = shape.parser === undefined ? null : lineFields(shape.parser, line)
    // An earlier source keeps its value: stream labels, then attributes, then the line's fields.
    const all = under(under({ ...own }, attrs), fields)
    const labels = JSON.stringify(applyLabelStages(shape.categorize ? under(own, fields) : all, shape.labelStages))
    const text = shape.lineFormat === undefined ? line : formatLine(shape.lineFormat, all)
    if (this.grouped) this.of.push(this.idOf(labels))
    const w = this.open()
    if (!this.grouped) {
      w.utf8(labels)
      w.byte(LABELS_END)
    }
    w.bytes(VALUE_OPEN)
    w.decimal(v.ts[i]!)
    w.ascii('000",')
    w.utf8(jsonString(text))
    if (shape.categorize) w.utf8(attrs === null ? ',{}' : `,${JSON.stringify({ structuredMetadata: attrs })}`)
    w.byte(93)
    this.close()
  }

  override finish (): Rendered {
    const out = super.finish()
    return this.grouped ? { ...out, streams: { labels: this.table, of: this.of } } : out
  }
}

/** A stream's labels as a JSON object (with its __tenant_id__ when `tenant`), then the attributes of pairs [from, to) that no stream label (nor service) shadows. */
function writeStreamLabels (w: ByteWriter, stream: Stream, v: BlockView, from: number, to: number, tenant = false): void {
  w.bytes(SERVICE_OPEN)
  w.bytes(stream.serviceJsonBytes)
  if (tenant) w.utf8(`,"${TENANT_LABEL}":${jsonString(stream.tenant)}`)
  if (stream.labelsJsonBytes.length > 0) {
    w.byte(44)
    w.bytes(stream.labelsJsonBytes)
  }
  for (let p = from; p < to; p++) {
    const key = v.dict[v.attrKey[p]!]!
    if (key === 'service' || stream.labelKeysJson?.has(key) === true || (tenant && key === TENANT_LABEL)) continue
    w.byte(44)
    writeAttrMember(w, v, p)
  }
  w.byte(125)
}

/** `["<unix ns>","<line>"` of entry `i`, from its stored bytes (the array left open). */
function writeValue (w: ByteWriter, v: BlockView, i: number): void {
  w.bytes(VALUE_OPEN)
  // Microseconds, so the nanoseconds end in 000; timestamps are positive integers.
  w.decimal(v.ts[i]!)
  w.bytes(NS_LINE)
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
