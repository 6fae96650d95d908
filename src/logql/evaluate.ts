import type { ArithmeticOp, BinaryOp, CompareOp, Grouping, MetricExpr, SetOp } from './ast.js'
import { COMPARE, compileRegex } from './match.js'
import { rangeFunction } from './range-functions.js'

// Metric queries on the front thread, over what the shards counted: range
// aggregations come back from the shards as counts per series and step
// (fetch), already summed by the grouping labels when a sum encloses them;
// here the series of all shards are added up, turned into rates, aggregated
// and combined by arithmetic. A value is NaN where a series has no sample.

/** The evaluation times: first, first + step, …, `points` in all (epoch µs). */
export interface Grid { first: number, stepUs: number, points: number }

export interface Series { metric: Record<string, string>, values: Float64Array }

export type Value = { kind: 'scalar', values: Float64Array } | { kind: 'vector', series: Series[] }

/** What the shards counted for one range aggregation, series by series (0: no entry in the window). */
export type Fetch = (expr: Extract<MetricExpr, { kind: 'range' }>, groupBy: Grouping | null) => Promise<Array<{ labels: string[], values: Float64Array, samples?: { ts: Float64Array, values: Float64Array } }>>

const key = (metric: Record<string, string>): string => JSON.stringify(Object.keys(metric).sort().map((k) => [k, metric[k]]))

export async function evaluate (expr: MetricExpr, grid: Grid, fetch: Fetch, groupBy: Grouping | null = null): Promise<Value> {
  switch (expr.kind) {
    case 'number': {
      const values = new Float64Array(grid.points).fill(expr.value)
      return expr.vector ? { kind: 'vector', series: [{ metric: {}, values }] } : { kind: 'scalar', values }
    }
    case 'range': {
      if (expr.unwrap !== undefined) return { kind: 'vector', series: overWindows(expr, await fetch(expr, null), grid) }
      const parts = await fetch(expr, groupBy)
      const merged = new Map<string, Series>()
      for (const part of parts) {
        const metric: Record<string, string> = {}
        for (let i = 0; i < part.labels.length; i += 2) metric[part.labels[i]!] = part.labels[i + 1]!
        const k = key(metric)
        const s = merged.get(k)
        if (s === undefined) merged.set(k, { metric, values: Float64Array.from(part.values) })
        else for (let j = 0; j < grid.points; j++) s.values[j] = s.values[j]! + part.values[j]!
      }
      const perSecond = rangeFunction(expr.op).perSecond ? 1e6 / expr.rangeUs : 1
      for (const s of merged.values()) for (let j = 0; j < grid.points; j++) s.values[j] = s.values[j] === 0 ? NaN : s.values[j]! * perSecond
      return { kind: 'vector', series: [...merged.values()] }
    }
    case 'aggregate': {
      // A sum over a range aggregation is summed on the shards already, by the same labels.
      const pushDown = expr.op === 'sum' && expr.inner.kind === 'range' ? (expr.grouping ?? { mode: 'by', labels: [] }) : null
      const inner = await evaluate(expr.inner, grid, fetch, pushDown)
      const series = inner.kind === 'vector' ? inner.series : [{ metric: {}, values: inner.values }]
      return { kind: 'vector', series: aggregate(expr.op, expr.grouping, expr.param, series, grid.points) }
    }
    case 'label_replace': {
      const inner = await evaluate(expr.inner, grid, fetch)
      if (inner.kind === 'scalar') return inner
      return { kind: 'vector', series: labelReplace(inner.series, expr) }
    }
    case 'binary': {
      const [left, right] = await Promise.all([evaluate(expr.left, grid, fetch), evaluate(expr.right, grid, fetch)])
      return binary(expr.op, left, right, grid.points, expr.bool === true)
    }
  }
}

function groupKey (metric: Record<string, string>, grouping: Grouping | null): Record<string, string> {
  if (grouping === null) return {}
  const listed = new Set(grouping.labels)
  const out: Record<string, string> = {}
  for (const k of Object.keys(metric)) if (listed.has(k) === (grouping.mode === 'by')) out[k] = metric[k]!
  return out
}

function aggregate (op: Extract<MetricExpr, { kind: 'aggregate' }>['op'], grouping: Grouping | null, param: number | null, series: Series[], points: number): Series[] {
  const groups = new Map<string, { metric: Record<string, string>, members: Series[] }>()
  for (const s of series) {
    const metric = groupKey(s.metric, grouping)
    const k = key(metric)
    let g = groups.get(k)
    if (g === undefined) groups.set(k, g = { metric, members: [] })
    g.members.push(s)
  }
  if (op === 'sort' || op === 'sort_desc') {
    // By the last step's value (an instant query's only one), NaN last; a range query's order means nothing.
    const last = (s: Series): number => s.values[points - 1]!
    const sign = op === 'sort' ? 1 : -1
    return [...series].sort((a, b) => Number.isNaN(last(a)) ? 1 : Number.isNaN(last(b)) ? -1 : sign * (last(a) - last(b)))
  }
  const out: Series[] = []
  for (const { metric, members } of groups.values()) {
    if (op === 'topk' || op === 'bottomk') {
      // Each series keeps its labels and its values at the steps where it is among the k largest (smallest) of its group.
      const kept = members.map((s) => ({ metric: s.metric, values: new Float64Array(points).fill(NaN) }))
      const sign = op === 'topk' ? 1 : -1
      for (let j = 0; j < points; j++) for (const i of largest(members, j, param!, sign)) kept[i]!.values[j] = members[i]!.values[j]!
      out.push(...kept.filter((s) => s.values.some((v) => !Number.isNaN(v))))
      continue
    }
    if (op === 'stddev' || op === 'stdvar') {
      // Population variance, as PromQL's.
      const values = new Float64Array(points)
      for (let j = 0; j < points; j++) {
        const present = members.map((s) => s.values[j]!).filter((v) => !Number.isNaN(v))
        const mean = present.reduce((a, b) => a + b, 0) / present.length
        const variance = present.reduce((a, v) => a + (v - mean) ** 2, 0) / present.length
        values[j] = present.length === 0 ? NaN : op === 'stdvar' ? variance : Math.sqrt(variance)
      }
      if (values.some((v) => !Number.isNaN(v))) out.push({ metric, values })
      continue
    }
    const values = new Float64Array(points)
    for (let j = 0; j < points; j++) {
      let n = 0
      let acc = op === 'min' ? Infinity : op === 'max' ? -Infinity : 0
      for (const s of members) {
        const v = s.values[j]!
        if (Number.isNaN(v)) continue
        n++
        if (op === 'min') acc = Math.min(acc, v)
        else if (op === 'max') acc = Math.max(acc, v)
        else if (op !== 'count') acc += v
      }
      values[j] = n === 0 ? NaN : op === 'count' ? n : op === 'avg' ? acc / n : acc
    }
    if (values.some((v) => !Number.isNaN(v))) out.push({ metric, values })
  }
  return out
}

/**
 * The indexes of the `k` largest values at step `j` (with `sign` -1: the
 * smallest) (NaN left out; ties keep
 * the earlier series), by insertion into a list of k: sorting every step's
 * members held the front 100-200 ms for topk over 500 series × 2000 steps.
 */
function largest (members: Series[], j: number, k: number, sign = 1): number[] {
  const present = (i: number): boolean => !Number.isNaN(members[i]!.values[j]!)
  const value = (i: number): number => sign * members[i]!.values[j]!
  if (k >= members.length) return members.map((_, i) => i).filter(present)
  // Insertion costs up to members × k a step: past a few, a sort is cheaper.
  if (k > 16) return members.map((_, i) => i).filter(present).sort((a, b) => value(b) - value(a)).slice(0, k)
  const top: number[] = []
  for (let i = 0; i < members.length; i++) {
    const v = value(i)
    if (Number.isNaN(v)) continue
    if (top.length === k && !(v > value(top[k - 1]!))) continue
    let at = top.length === k ? k - 1 : top.length
    while (at > 0 && v > value(top[at - 1]!)) {
      top[at] = top[at - 1]!
      at--
    }
    top[at] = i
  }
  return top
}

const OPS: Record<ArithmeticOp, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '^': (a, b) => a ** b
}

/**
 * An unwrapped range function: each series' values from every shard, in time
 * order, and at each evaluation time t the function over those in the window
 * (t − offset − range, t − offset]; NaN where the window holds none.
 */
function overWindows (expr: Extract<MetricExpr, { kind: 'range' }>, parts: Awaited<ReturnType<Fetch>>, grid: Grid): Series[] {
  const over = rangeFunction(expr.op).over!
  const merged = new Map<string, { metric: Record<string, string>, ts: number[], values: number[] }>()
  for (const part of parts) {
    const samples = part.samples
    if (samples === undefined) continue
    const metric: Record<string, string> = {}
    for (let i = 0; i < part.labels.length; i += 2) metric[part.labels[i]!] = part.labels[i + 1]!
    const k = key(metric)
    let m = merged.get(k)
    if (m === undefined) merged.set(k, m = { metric, ts: [], values: [] })
    for (let i = 0; i < samples.ts.length; i++) {
      m.ts.push(samples.ts[i]!)
      m.values.push(samples.values[i]!)
    }
  }
  const offset = expr.offsetUs ?? 0
  const out: Series[] = []
  for (const { metric, ts, values } of merged.values()) {
    const order = ts.map((_, i) => i).sort((a, b) => ts[a]! - ts[b]!)
    const sortedTs = order.map((i) => ts[i]!)
    const sortedValues = order.map((i) => values[i]!)
    const result = new Float64Array(grid.points)
    let lo = 0
    let hi = 0
    for (let j = 0; j < grid.points; j++) {
      const end = grid.first + j * grid.stepUs - offset
      const start = end - expr.rangeUs
      while (lo < sortedTs.length && sortedTs[lo]! <= start) lo++
      if (hi < lo) hi = lo
      while (hi < sortedTs.length && sortedTs[hi]! <= end) hi++
      result[j] = hi > lo ? over(sortedValues.slice(lo, hi), expr.param ?? 0) : NaN
    }
    if (result.some((v) => !Number.isNaN(v))) out.push({ metric, values: result })
  }
  return out
}

/**
 * PromQL's label_replace: where the regex matches all of `src`'s value, `dst`
 * becomes the replacement with $1, ${1}, $name and ${name} expanded (removed
 * when that is empty); other series are left as they are.
 */
function labelReplace (series: Series[], r: Extract<MetricExpr, { kind: 'label_replace' }>): Series[] {
  const re = compileRegex(`^(?:${r.regex})$`)
  const names = re.namedGroups()
  return series.map((s) => {
    const m = re.matcher(s.metric[r.src] ?? '')
    if (!m.matches()) return s
    const value = r.replacement.replace(/\$(?:\$|\{([a-zA-Z0-9_]+)\}|([a-zA-Z0-9_]+))/g, (all, braced?: string, bare?: string) => {
      if (all === '$$') return '$'
      const ref = (braced ?? bare)!
      const index = /^\d+$/.test(ref) ? Number(ref) : names[ref]
      return index === undefined || index > m.groupCount() ? '' : m.group(index) ?? ''
    })
    const metric = { ...s.metric }
    if (value === '') delete metric[r.dst]
    else metric[r.dst] = value
    return { metric, values: s.values }
  })
}

const isSet = (op: BinaryOp): op is SetOp => op === 'and' || op === 'or' || op === 'unless'

type Vector = Extract<Value, { kind: 'vector' }>

/**
 * Two values combined, as Loki and PromQL do. Arithmetic applies at every
 * point. A comparison between numbers gives 1 or 0; with a vector it keeps
 * the vector's sample where it holds and drops it elsewhere (with `bool`: 1
 * or 0 instead). Vectors meet series to series by their labels; and / or /
 * unless keep series (point by point) by whether the other side has them.
 */
function binary (op: BinaryOp, left: Value, right: Value, points: number, bool: boolean): Value {
  if (isSet(op)) return setOp(op, left as Vector, right as Vector, points)
  const combine = pointwise(op, left.kind === 'scalar' && right.kind === 'scalar' ? true : bool, left.kind === 'scalar' && right.kind === 'vector', points)
  if (left.kind === 'scalar' && right.kind === 'scalar') return { kind: 'scalar', values: combine(left.values, right.values) }
  if (left.kind === 'scalar' && right.kind === 'vector') return { kind: 'vector', series: kept(right.series.map((s) => ({ metric: s.metric, values: combine(left.values, s.values) }))) }
  if (left.kind === 'vector' && right.kind === 'scalar') return { kind: 'vector', series: kept(left.series.map((s) => ({ metric: s.metric, values: combine(s.values, right.values) }))) }
  // Two vectors: series with the same labels meet one to one; the others have no match and drop out.
  const rights = new Map((right as Vector).series.map((s) => [key(s.metric), s]))
  const series: Series[] = []
  for (const s of (left as Vector).series) {
    const other = rights.get(key(s.metric))
    if (other !== undefined) series.push({ metric: s.metric, values: combine(s.values, other.values) })
  }
  return { kind: 'vector', series: kept(series) }
}

/**
 * The point-by-point function of `op`. A comparison that filters keeps the
 * vector side's sample (the right one when `vectorRight`) where it holds and
 * NaN (no sample) elsewhere; with `asBool` it gives 1 or 0 where both sides
 * have a sample.
 */
function pointwise (op: ArithmeticOp | CompareOp, asBool: boolean, vectorRight: boolean, points: number): (a: Float64Array, b: Float64Array) => Float64Array {
  const arithmetic = OPS[op as ArithmeticOp]
  const compare = COMPARE[op as CompareOp]
  return (a, b) => {
    const out = new Float64Array(points)
    for (let j = 0; j < points; j++) {
      const x = a[j]!
      const y = b[j]!
      if (arithmetic !== undefined) out[j] = arithmetic(x, y)
      else if (Number.isNaN(x) || Number.isNaN(y)) out[j] = NaN
      else if (asBool) out[j] = compare(x, y) ? 1 : 0
      else out[j] = compare(x, y) ? (vectorRight ? y : x) : NaN
    }
    return out
  }
}

/** The series that still have a sample somewhere. */
const kept = (series: Series[]): Series[] => series.filter((s) => s.values.some((v) => !Number.isNaN(v)))

function setOp (op: SetOp, left: Vector, right: Vector, points: number): Value {
  const rights = new Map(right.series.map((s) => [key(s.metric), s]))
  const has = (s: Series | undefined, j: number): boolean => s !== undefined && !Number.isNaN(s.values[j]!)
  const series: Series[] = []
  for (const s of left.series) {
    const other = rights.get(key(s.metric))
    const values = new Float64Array(points)
    for (let j = 0; j < points; j++) {
      const keep = op === 'or' || (op === 'and' ? has(other, j) : !has(other, j))
      values[j] = keep ? s.values[j]! : NaN
    }
    series.push({ metric: s.metric, values })
  }
  if (op === 'or') {
    // The right side's series fill in the points where the left side has no sample of those labels.
    const out = new Map(series.map((s) => [key(s.metric), s]))
    for (const s of right.series) {
      const mine = out.get(key(s.metric))
      if (mine === undefined) series.push({ metric: s.metric, values: Float64Array.from(s.values) })
      else for (let j = 0; j < points; j++) if (Number.isNaN(mine.values[j]!)) mine.values[j] = s.values[j]!
    }
  }
  return { kind: 'vector', series: kept(series) }
}
