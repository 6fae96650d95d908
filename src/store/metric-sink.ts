import type { Sample } from '../logql/range-functions.js'
import { keptLabel } from '../logql/stages.js'
import { DETECTED_LEVEL, detectLevel, labelledLevel, lineLevel, type Level } from '../logql/detected-level.js'
import { EntryLabels } from './entry-labels.js'
import { jsonUnescape } from '../core/json-text.js'
import { metricLimitError } from '../logql/metric-limits.js'
import type { MetricSeries, MetricSpec } from './shard-messages.js'
import type { BlockView } from './block.js'
import { QueryBudgetError } from './budget.js'
import type { Stream } from './stream.js'

// A LogQL range aggregation's counting on the shard: the scan hands over
// each matching entry, which adds to the evaluation times whose window
// (t − range, t] holds it, in the series its labels name. Only the counts
// cross back to the front thread, never the entries.

/** What each entry adds to its series, per range function sample (logql/range-functions.ts). */
const SAMPLES: Record<Sample, (v: BlockView, i: number) => number> = {
  count: () => 1,
  bytes: (v, i) => {
    const from = v.msgStart[i]!
    const to = v.msgEnd[i]!
    // Stored escaped: an escape means the text is shorter than its bytes.
    return v.msg.subarray(from, to).includes(92) ? Buffer.byteLength(jsonUnescape(v.msg, from, to)) : to - from
  }
}

export class MetricSink {
  private readonly series = new Map<string, MetricSeries>()
  /** The series of each stream's entries that carry no attributes (without a parser their labels are the stream's). */
  private readonly plain = new Map<Stream, MetricSeries>()

  /**
   * With a grouping by detected_level: for each stream, the level its own labels name (null: none),
   * and the series of its entries without attributes, by level.
   */
  private readonly plainByLevel = new Map<Stream, { own: Level | null, series: Map<Level, MetricSeries> }>()

  private readonly labels: EntryLabels
  private readonly sample: (v: BlockView, i: number) => number
  /** The query groups by detected_level, which each entry gets from its level-like label or its line. */
  private readonly levels: boolean

  constructor (private readonly spec: MetricSpec) {
    this.labels = new EntryLabels(spec.parser, spec.tenantLabel === true)
    this.sample = SAMPLES[spec.op]
    this.levels = spec.groupBy !== null && spec.groupBy.mode === 'by' && spec.groupBy.labels.includes(DETECTED_LEVEL)
  }

  add (stream: Stream, v: BlockView, i: number): void {
    const { spec } = this
    const bare = spec.parser === undefined && (v.attrEnd === null || v.attrEnd[i] === (i === 0 ? 0 : v.attrEnd[i - 1]))
    let s: MetricSeries | undefined
    if (!this.levels) {
      s = bare ? this.plain.get(stream) : undefined
      if (s === undefined) {
        s = this.seriesOf(stream, v, i)
        if (bare) this.plain.set(stream, s)
      }
    } else if (bare) {
      // Its labels are the stream's: only the line's level tells its entries apart.
      let plain = this.plainByLevel.get(stream)
      if (plain === undefined) this.plainByLevel.set(stream, plain = { own: labelledLevel(EntryLabels.ofStream(stream, spec.tenantLabel === true)), series: new Map() })
      const level = plain.own ?? lineLevel(v.msg, v.msgStart[i]!, v.msgEnd[i]!)
      s = plain.series.get(level)
      if (s === undefined) plain.series.set(level, s = this.seriesOf(stream, v, i, level))
    } else {
      s = this.seriesOf(stream, v, i)
    }
    const amount = this.sample(v, i)
    const ts = v.ts[i]!
    const lo = Math.max(0, Math.ceil((ts - spec.first) / spec.stepUs))
    const hi = Math.min(spec.points - 1, Math.ceil((ts + spec.rangeUs - spec.first) / spec.stepUs) - 1)
    for (let j = lo; j <= hi; j++) s.values[j]! += amount
  }

  /** The series entry `i` counts in: its labels (stream, attributes, parsed fields), after drop / keep and grouping. */
  private seriesOf (stream: Stream, v: BlockView, i: number, level?: Level): MetricSeries {
    const { spec } = this
    const labels = this.labels.all(stream, v, i)
    if (this.levels) labels[DETECTED_LEVEL] = level ?? detectLevel(labels, v.msg, v.msgStart[i]!, v.msgEnd[i]!)
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
    let names = Object.keys(labels).filter((n) => keptLabel(n, labelStages))
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
