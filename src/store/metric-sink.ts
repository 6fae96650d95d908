import type { Sample } from '../logql/range-functions.js'
import type { Unwrap } from '../logql/ast.js'
import { goDurationNs, goFloat, humanBytes } from '../logql/units.js'
import { keptLabel } from '../logql/stages.js'
import { DETECTED_LEVEL, labelledLevel, LEVEL_LABELS, LEVELS, levelOf, lineLevel, type Level } from '../logql/detected-level.js'
import { EntryLabels } from './entry-labels.js'
import { jsonEscape, jsonUnescape, jsonUnescapeString } from '../core/json-text.js'
import { metricLimitError } from '../logql/metric-limits.js'
import type { MetricSeries, MetricSpec } from './shard-messages.js'
import type { BlockView } from './block.js'
import { QueryBudgetError } from './budget.js'
import { TENANT_LABEL, type Stream } from './stream.js'

// A LogQL range aggregation's counting on the shard: the scan hands over
// each matching entry, which adds to the evaluation times whose window
// (t − range, t] holds it, in the series its labels name. Only the counts
// cross back to the front thread, never the entries.

/** What each entry adds to its series, per range function sample (logql/range-functions.ts). */
const SAMPLES: Record<Sample, (v: BlockView, i: number) => number> = {
  count: () => 1,
  // Collected as values (MetricSink.collect), not added up.
  unwrap: () => 0,
  bytes: (v, i) => {
    const from = v.msgStart[i]!
    const to = v.msgEnd[i]!
    // Stored escaped: an escape means the text is shorter than its bytes.
    return v.msg.subarray(from, to).includes(92) ? Buffer.byteLength(jsonUnescape(v.msg, from, to)) : to - from
  }
}

/** Entry `i`'s line level: kept by its block when it keeps them, else found in its line. */
function lineLevelOf (v: BlockView, i: number): Level {
  return v.lineLevels !== undefined ? LEVELS[v.lineLevels()[i]!]! : lineLevel(v.msg, v.msgStart[i]!, v.msgEnd[i]!)
}

/** An unwrapped label's value as a number: as is, a Go duration in seconds, or a byte size. */
const CONVERT: Record<Unwrap['conversion'], (text: string) => number | null> = {
  number: goFloat,
  duration: (text) => {
    const ns = goDurationNs(text)
    return ns === null ? null : ns / 1e9
  },
  bytes: humanBytes
}

export class MetricSink {
  private readonly series = new Map<string, MetricSeries>()
  /** The series of each stream's entries that carry no attributes (without a parser their labels are the stream's). */
  private readonly plain = new Map<Stream, MetricSeries>()

  private readonly labels: EntryLabels
  private readonly sample: (v: BlockView, i: number) => number
  /** The query groups by detected_level, which each entry gets from its level-like label or its line. */
  private readonly levels: boolean

  /**
   * `by (…)` without a parser: an entry's series is named by the grouped labels
   * alone, so only those are looked up (stream, then attributes), not every label.
   */
  private readonly grouped: GroupedLabels | null

  /** The reference path (tests): every label of every entry, each level read from its line. */
  private readonly general: boolean

  /** `general`: always take the reference path. */
  constructor (private readonly spec: MetricSpec, opts: { general?: boolean } = {}) {
    this.general = opts.general === true
    this.labels = new EntryLabels(spec.parser, spec.tenantLabel === true)
    this.sample = SAMPLES[spec.op]
    this.levels = spec.groupBy !== null && spec.groupBy.mode === 'by' && spec.groupBy.labels.includes(DETECTED_LEVEL)
    this.grouped = !this.general && spec.parser === undefined && spec.groupBy !== null && spec.groupBy.mode === 'by'
      ? new GroupedLabels(spec.groupBy.labels.filter((n) => keptLabel(n, spec.labelStages)), spec.tenantLabel === true)
      : null
  }

  add (stream: Stream, v: BlockView, i: number): void {
    const { spec } = this
    if (spec.unwrap !== undefined) return this.collect(stream, v, i, spec.unwrap)
    let s: MetricSeries | undefined
    if (this.grouped !== null) {
      s = this.grouped.series(stream, v, i, (pairs) => this.seriesOfPairs(pairs))
    } else if (!this.levels) {
      const bare = spec.parser === undefined && (v.attrEnd === null || v.attrEnd[i] === (i === 0 ? 0 : v.attrEnd[i - 1]))
      s = bare ? this.plain.get(stream) : undefined
      if (s === undefined) {
        s = this.seriesOf(stream, v, i)
        if (bare) this.plain.set(stream, s)
      }
    } else {
      s = this.seriesOf(stream, v, i)
    }
    const amount = this.sample(v, i)
    const ts = v.ts[i]!
    const lo = Math.max(0, Math.ceil((ts - spec.first) / spec.stepUs))
    const hi = Math.min(spec.points - 1, Math.ceil((ts + spec.rangeUs - spec.first) / spec.stepUs) - 1)
    for (let j = lo; j <= hi; j++) s.values[j]! += amount
  }

  /** With `| unwrap`: each series' values and times, and how many in all (bounded by maxSamples). */
  private readonly collected = new Map<MetricSeries, { ts: number[], values: number[] }>()
  private samples = 0

  /** Entry `i`'s value of the unwrapped label goes to its series (its labels without that one); an entry whose value does not convert is left out. */
  private collect (stream: Stream, v: BlockView, i: number, unwrap: Unwrap): void {
    const labels = this.labels.all(stream, v, i)
    const raw = labels[unwrap.name]
    if (raw === undefined || raw === '') return
    const value = CONVERT[unwrap.conversion](raw)
    if (value === null) return
    delete labels[unwrap.name]
    if (++this.samples > this.spec.maxSamples) {
      throw new QueryBudgetError('LOGAGG_ERR_BAD_QUERY', `the query would take more than ${this.spec.maxSamples} unwrapped values (MAX_QUERY_SAMPLES); narrow the range or the selector`)
    }
    const s = this.seriesOfPairs(this.pairs(labels), 0)
    let c = this.collected.get(s)
    if (c === undefined) this.collected.set(s, c = { ts: [], values: [] })
    c.ts.push(v.ts[i]!)
    c.values.push(value)
  }

  /** The series entry `i` counts in: its labels (stream, attributes, parsed fields), after drop / keep and grouping. */
  private seriesOf (stream: Stream, v: BlockView, i: number): MetricSeries {
    const labels = this.labels.all(stream, v, i)
    if (this.levels) labels[DETECTED_LEVEL] = labelledLevel(labels) ?? (this.general ? lineLevel(v.msg, v.msgStart[i]!, v.msgEnd[i]!) : lineLevelOf(v, i))
    return this.seriesOfPairs(this.pairs(labels))
  }

  /** The series these sorted label pairs name, made when new (within the query's limits); `points` values each. */
  private seriesOfPairs (pairs: string[], points = this.spec.points): MetricSeries {
    const { spec } = this
    const key = pairs.join('\u0000')
    let s = this.series.get(key)
    if (s === undefined) {
      // Checked before the series is made, so a shard never holds more than the limits allow.
      const refused = metricLimitError(this.series.size + 1, spec.points, spec)
      if (refused !== null) throw new QueryBudgetError('LOGAGG_ERR_BAD_QUERY', refused)
      this.series.set(key, s = { labels: pairs, values: new Float64Array(points) })
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
    for (const [s, c] of this.collected) s.samples = { ts: Float64Array.from(c.ts), values: Float64Array.from(c.values) }
    return [...this.series.values()]
  }
}

/**
 * The grouped labels of entries, for `by (…)` without a parser: each name's
 * value is the stream's label, else the entry's first attribute of that name
 * (EntryLabels' order), and `detected_level` what detectLevel() gives over
 * those labels; names with an empty value are left out, as in
 * MetricSink.pairs(). Series are found by those values, with no object made
 * per entry.
 */
interface ViewKeys {
  names: Map<number, number>
  levels: Map<number, number>
}

class GroupedLabels {
  /** The grouped names, sorted, without duplicates. */
  private readonly names: string[]
  private readonly escaped: string[]
  /** Where detected_level is among the names, or -1. */
  private readonly levelAt: number
  private static readonly LEVEL_KEYS = LEVEL_LABELS.map(jsonEscape)

  /**
   * Per block view: which grouped name, and which level-like name, each
   * dictionary id is the key of (a scan interleaves the entries of several
   * blocks, so each block's is kept, not only the last one's).
   */
  private readonly keys = new WeakMap<BlockView, ViewKeys>()

  /** Scratch: this entry's value of each grouped name, and of each level-like name ('' when none). */
  private readonly values: string[]
  private readonly levelValues: string[]

  /** Per stream: its own value of each grouped name and level-like name; null where it has no such label. */
  private readonly streams = new Map<Stream, { names: Array<string | null>, levels: Array<string | null> }>()
  /** Series by the values' key. */
  private readonly found = new Map<string, MetricSeries>()

  /** `tenant`: a query across tenants, whose entries carry their stream's __tenant_id__. */
  constructor (names: readonly string[], private readonly tenant = false) {
    this.names = [...new Set(names)].sort()
    this.escaped = this.names.map(jsonEscape)
    this.levelAt = this.names.indexOf(DETECTED_LEVEL)
    this.values = new Array<string>(this.names.length)
    this.levelValues = new Array<string>(LEVEL_LABELS.length)
  }

  series (stream: Stream, v: BlockView, i: number, make: (pairs: string[]) => MetricSeries): MetricSeries {
    const { names, values, levelValues } = this
    let own = this.streams.get(stream)
    if (own === undefined) {
      own = {
        names: names.map((n) => n === 'service' ? stream.labelValue(n) : n === TENANT_LABEL && this.tenant ? stream.tenant : stream.label(n) ?? null),
        levels: LEVEL_LABELS.map((n) => stream.label(n) ?? null)
      }
      this.streams.set(stream, own)
    }
    for (let k = 0; k < names.length; k++) values[k] = own.names[k] ?? ''
    const levels = this.levelAt >= 0
    if (levels) for (let k = 0; k < levelValues.length; k++) levelValues[k] = own.levels[k] ?? ''
    if (v.attrEnd !== null) {
      const from = i === 0 ? 0 : v.attrEnd[i - 1]!
      const to = v.attrEnd[i]!
      if (from < to) {
        let keys = this.keys.get(v)
        if (keys === undefined) this.keys.set(v, keys = this.learn(v))
        if (keys.names.size > 0 || keys.levels.size > 0) {
          for (let p = from; p < to; p++) {
            const key = v.attrKey[p]!
            const slot = keys.names.get(key)
            const level = levels ? keys.levels.get(key) : undefined
            if ((slot === undefined && level === undefined) || this.seen(v, from, p, key)) continue
            // An attribute counts where the stream has no label of its name; the first of a name counts.
            const value = jsonUnescapeString(v.dict[v.attrVal[p]!]!)
            if (slot !== undefined && own.names[slot] === null) values[slot] = value
            if (level !== undefined && own.levels[level] === null) levelValues[level] = value
          }
        }
      }
    }
    if (levels) {
      let level: Level | null = null
      for (const value of levelValues) {
        if (value !== '') {
          level = levelOf(value)
          break
        }
      }
      values[this.levelAt] = level ?? lineLevelOf(v, i)
    }
    const key = values.join('\u0000')
    let s = this.found.get(key)
    if (s === undefined) {
      const pairs: string[] = []
      for (let k = 0; k < names.length; k++) if (values[k] !== '') pairs.push(names[k]!, values[k]!)
      this.found.set(key, s = make(pairs))
    }
    return s
  }

  /** True when pair `p`'s key appeared in an earlier pair of the same entry. */
  private seen (v: BlockView, from: number, p: number, key: number): boolean {
    for (let q = from; q < p; q++) if (v.attrKey[q] === key) return true
    return false
  }

  private learn (v: BlockView): ViewKeys {
    const keys: ViewKeys = { names: new Map(), levels: new Map() }
    const levelKeys = this.levelAt >= 0 ? GroupedLabels.LEVEL_KEYS : []
    for (let d = 0; d < v.dict.length; d++) {
      const s = v.dict[d]!
      const at = this.escaped.indexOf(s)
      if (at >= 0) keys.names.set(d, at)
      const k = levelKeys.indexOf(s)
      if (k >= 0) keys.levels.set(d, k)
    }
    return keys
  }
}
