// Every LogQL range function this server runs, by name: what a shard adds up
// per entry (`sample`: 1 for each entry, or its line's bytes) and what the
// front does with the sums (divide by the range in seconds, for a rate); or,
// over `| unwrap label`, the values the shards collect and what the front
// makes of each window's (`over`). The
// parser, the shards' metric sink and the evaluator all read this table: a
// new function over an existing sample is one line here; a new sample is one
// more entry in store/metric-sink.ts's SAMPLES.

export type Sample = 'count' | 'bytes' | 'unwrap'

export interface RangeFunction {
  /** As written in LogQL. */
  readonly name: string
  /** Its node in the Lezer LogQL grammar (@grafana/lezer-logql). */
  readonly node: string
  readonly sample: Sample
  /** Divided by the range in seconds: a per-second rate. */
  readonly perSecond: boolean
  /**
   * For a function over `| unwrap label` values (sample 'unwrap'): what a
   * window's values (in time order) come to, on the front; `param` is
   * quantile_over_time's φ.
   */
  readonly over?: (values: readonly number[], param: number) => number
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)
const variance = (xs: readonly number[]): number => {
  const mean = sum(xs) / xs.length
  return xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length
}
/** Prometheus's quantile: linear between the closest ranks; φ outside [0, 1] gives ∓Inf. */
function quantile (xs: readonly number[], q: number): number {
  if (q < 0) return -Infinity
  if (q > 1) return Infinity
  const sorted = [...xs].sort((a, b) => a - b)
  const rank = q * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo)
}

export const RANGE_FUNCTIONS = [
  { name: 'count_over_time', node: 'CountOverTime', sample: 'count', perSecond: false },
  { name: 'rate', node: 'Rate', sample: 'count', perSecond: true },
  { name: 'bytes_over_time', node: 'BytesOverTime', sample: 'bytes', perSecond: false },
  { name: 'bytes_rate', node: 'BytesRate', sample: 'bytes', perSecond: true },
  { name: 'sum_over_time', node: 'SumOverTime', sample: 'unwrap', perSecond: false, over: sum },
  { name: 'avg_over_time', node: 'AvgOverTime', sample: 'unwrap', perSecond: false, over: (xs) => sum(xs) / xs.length },
  { name: 'min_over_time', node: 'MinOverTime', sample: 'unwrap', perSecond: false, over: (xs) => Math.min(...xs) },
  { name: 'max_over_time', node: 'MaxOverTime', sample: 'unwrap', perSecond: false, over: (xs) => Math.max(...xs) },
  { name: 'stddev_over_time', node: 'StddevOverTime', sample: 'unwrap', perSecond: false, over: (xs) => Math.sqrt(variance(xs)) },
  { name: 'stdvar_over_time', node: 'StdvarOverTime', sample: 'unwrap', perSecond: false, over: variance },
  { name: 'quantile_over_time', node: 'QuantileOverTime', sample: 'unwrap', perSecond: false, over: quantile },
  { name: 'first_over_time', node: 'FirstOverTime', sample: 'unwrap', perSecond: false, over: (xs) => xs[0]! },
  { name: 'last_over_time', node: 'LastOverTime', sample: 'unwrap', perSecond: false, over: (xs) => xs[xs.length - 1]! }
] as const satisfies readonly RangeFunction[]

export type RangeOp = typeof RANGE_FUNCTIONS[number]['name']

/** The unwrap conversions: `| unwrap x` (a number), `duration(x)` / `duration_seconds(x)` (seconds), `bytes(x)`. */
export type Conversion = 'number' | 'duration' | 'bytes'

const byName = new Map<string, RangeFunction>(RANGE_FUNCTIONS.map((f) => [f.name, f]))
const byNode = new Map<string, RangeFunction>(RANGE_FUNCTIONS.map((f) => [f.node, f]))

export const rangeFunction = (name: RangeOp): RangeFunction => byName.get(name)!

/** The function a grammar node names, or undefined when this server has none by it. */
export const rangeFunctionAt = (node: string): RangeFunction | undefined => byNode.get(node)

/** The names, for messages: "count_over_time, rate, … and bytes_rate". */
export const RANGE_FUNCTION_NAMES = RANGE_FUNCTIONS.map((f) => f.name).join(', ').replace(/, ([^,]*)$/, ' and $1')
