import { jsonUnescape, jsonUnescapeString } from '../core/json-text.js'
import { lineFields } from '../logql/match.js'
import { metricLimitError } from '../logql/metric-limits.js'
import type { MetricSeries, MetricSpec } from './shard-messages.js'
import type { BlockView } from './block.js'
import { QueryBudgetError } from './budget.js'
import type { Stream } from './stream.js'

// A LogQL range aggregation's counting on the shard: the scan hands over
// each matching entry, which adds to the evaluation times whose window
// (t − range, t] holds it, in the series its labels name. Only the counts
// cross back to the front thread, never the entries.

export class MetricSink {
  private readonly series = new Map<string, MetricSeries>()
  /** Decoded attribute dictionaries of the views seen lately. */
  private lastView: BlockView | null = null
  private dict: string[] = []
  /** The series of each stream's entries that carry no attributes (without a parser their labels are the stream's). */
  private readonly plain = new Map<Stream, MetricSeries>()

  constructor (private readonly spec: MetricSpec) {}

  add (stream: Stream, v: BlockView, i: number): void {
    const { spec } = this
    const bare = spec.parser === undefined && (v.attrEnd === null || v.attrEnd[i] === (i === 0 ? 0 : v.attrEnd[i - 1]))
    let s = bare ? this.plain.get(stream) : undefined
    if (s === undefined) {
      s = this.seriesOf(stream, v, i)
      if (bare) this.plain.set(stream, s)
    }
    let amount = 1
    if (spec.op === 'bytes') {
      const from = v.msgStart[i]!
      const to = v.msgEnd[i]!
      // Stored escaped: an escape means the text is shorter than its bytes.
      amount = v.msg.subarray(from, to).includes(92) ? Buffer.byteLength(jsonUnescape(v.msg, from, to)) : to - from
    }
    const ts = v.ts[i]!
    const lo = Math.max(0, Math.ceil((ts - spec.first) / spec.stepUs))
    const hi = Math.min(spec.points - 1, Math.ceil((ts + spec.rangeUs - spec.first) / spec.stepUs) - 1)
    for (let j = lo; j <= hi; j++) s.values[j]! += amount
  }

  /** The series entry `i` counts in: its labels (stream, attributes, parsed fields), after drop / keep and grouping. */
  private seriesOf (stream: Stream, v: BlockView, i: number): MetricSeries {
    const { spec } = this
    const labels: Record<string, string> = { service: stream.service }
    for (let k = 0; k < stream.labels.length; k += 2) labels[stream.labels[k]!] = stream.labels[k + 1]!
    if (v.attrEnd !== null) {
      if (v !== this.lastView) {
        this.lastView = v
        this.dict = v.dict.map(jsonUnescapeString)
      }
      for (let p = i === 0 ? 0 : v.attrEnd[i - 1]!; p < v.attrEnd[i]!; p++) {
        const key = this.dict[v.attrKey[p]!]!
        // A stream label keeps its value over an attribute of the same name.
        if (!(key in labels)) labels[key] = this.dict[v.attrVal[p]!]!
      }
    }
    if (spec.parser !== undefined) {
      // The line's fields join the labels (the entry's own labels win), so sum by (status) after | json works.
      const fields = lineFields(spec.parser, jsonUnescape(v.msg, v.msgStart[i]!, v.msgEnd[i]!))
      for (const key in fields) if (!(key in labels)) labels[key] = fields[key]!
    }
    const pairs = this.pairs(labels)
    const key = pairs.join('\u0000')
    let s = this.series.get(key)
    if (s === undefined) {
      // Checked before the series is made, so a shard never holds more than the limits allow.
      const refused = metricLimitError(this.series.size + 1, spec.points, spec)
      if (refused !== null) throw new QueryBudgetError('LOGAGG_ERR_BAD_QUERY', refused)
      this.series.set(key, s = { labels: pairs, values: new Float64Array(spec.points) })
    }
    return s
  }

  /** The entry's labels after drop / keep and grouping, as sorted pairs without empty values. */
  private pairs (labels: Record<string, string>): string[] {
    const { labelStages, groupBy } = this.spec
    let names = Object.keys(labels)
    for (const stage of labelStages) {
      const listed = new Set(stage.names)
      names = names.filter((n) => listed.has(n) === (stage.kind === 'keep'))
    }
    if (groupBy !== null) {
      const listed = new Set(groupBy.labels)
      names = names.filter((n) => listed.has(n) === (groupBy.mode === 'by'))
    }
    const out: string[] = []
    for (const n of names.sort()) if (labels[n] !== '') out.push(n, labels[n]!)
    return out
  }

  finish (): MetricSeries[] {
    return [...this.series.values()]
  }
}
