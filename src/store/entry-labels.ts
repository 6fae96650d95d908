import { jsonEscape, jsonUnescape, jsonUnescapeString } from '../core/json-text.js'
import { lineFields } from '../logql/match.js'
import type { BlockView, Pairs } from './block.js'
import { TENANT_LABEL, type Stream } from './stream.js'

// An entry's labels as LogQL sees them, the one lookup every stage uses
// (filters, tails, metric series, Loki streams): the stream's labels (service
// included), then the entry's attributes (structured metadata), then, with a
// parser, the line's fields. An earlier source keeps its value over a later
// one of the same name.

/** Label `name` of entry `i` of `v` (in `stream`), without a parser; '' when it has none. Decodes only what it looks at. */
export function viewLabel (stream: Stream, v: BlockView, i: number, name: string): string {
  const own = stream.labelValue(name)
  if (own !== '' || v.attrEnd === null) return own
  const key = jsonEscape(name)
  for (let p = i === 0 ? 0 : v.attrEnd[i - 1]!; p < v.attrEnd[i]!; p++) {
    if (v.dict[v.attrKey[p]!] === key) return jsonUnescapeString(v.dict[v.attrVal[p]!]!)
  }
  return ''
}

/** Label `name` of an entry held as its stream and attribute pairs (a live tail's view of it). */
export function pairsLabel (stream: Stream, attrs: Pairs | null, name: string): string {
  const own = stream.labelValue(name)
  if (own !== '' || attrs === null) return own
  for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === name) return attrs[i + 1]!
  return ''
}

/** Every label of entries as objects; keeps each block's decoded dictionary (a scan interleaves the entries of several blocks). */
export class EntryLabels {
  private readonly dicts = new WeakMap<BlockView, string[]>()

  constructor (private readonly parser?: 'json' | 'logfmt', private readonly tenant = false) {}

  /** The stream's labels with its service (and its __tenant_id__ when `tenant`: a query across tenants). */
  static ofStream (stream: Stream, tenant = false): Record<string, string> {
    const labels: Record<string, string> = { service: stream.name }
    if (tenant) labels[TENANT_LABEL] = stream.tenant
    for (let k = 0; k < stream.labels.length; k += 2) labels[stream.labels[k]!] = stream.labels[k + 1]!
    return labels
  }

  /** The entry's attributes, decoded; null when it has none. */
  attributes (v: BlockView, i: number): Record<string, string> | null {
    const out: Record<string, string> = {}
    return this.addAttributes(out, v, i) ? out : null
  }

  /** Writes the entry's attributes into `labels` where it has none by that name yet; false when the entry has no attributes. */
  private addAttributes (labels: Record<string, string>, v: BlockView, i: number): boolean {
    if (v.attrEnd === null) return false
    const from = i === 0 ? 0 : v.attrEnd[i - 1]!
    const to = v.attrEnd[i]!
    if (from === to) return false
    let dict = this.dicts.get(v)
    if (dict === undefined) this.dicts.set(v, dict = v.dict.map(jsonUnescapeString))
    for (let p = from; p < to; p++) {
      const key = dict[v.attrKey[p]!]!
      if (!(key in labels)) labels[key] = dict[v.attrVal[p]!]!
    }
    return true
  }

  /** Stream labels, then attributes, then (with a parser) the line's fields; `line` when the caller decoded it already. */
  all (stream: Stream, v: BlockView, i: number, line?: string): Record<string, string> {
    const labels = EntryLabels.ofStream(stream, this.tenant)
    this.addAttributes(labels, v, i)
    if (this.parser !== undefined) {
      const fields = lineFields(this.parser, line ?? jsonUnescape(v.msg, v.msgStart[i]!, v.msgEnd[i]!))
      for (const key in fields) if (!(key in labels)) labels[key] = fields[key]!
    }
    return labels
  }
}
