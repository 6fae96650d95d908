// Every LogQL range function this server runs, by name: what a shard adds up
// per entry (`sample`: 1 for each entry, or its line's bytes) and what the
// front does with the sums (divide by the range in seconds, for a rate). The
// parser, the shards' metric sink and the evaluator all read this table: a
// new function over an existing sample is one line here; a new sample is one
// more entry in store/metric-sink.ts's SAMPLES.

export type Sample = 'count' | 'bytes'

export interface RangeFunction {
  /** As written in LogQL. */
  readonly name: string
  /** Its node in the Lezer LogQL grammar (@grafana/lezer-logql). */
  readonly node: string
  readonly sample: Sample
  /** Divided by the range in seconds: a per-second rate. */
  readonly perSecond: boolean
}

export const RANGE_FUNCTIONS = [
  { name: 'count_over_time', node: 'CountOverTime', sample: 'count', perSecond: false },
  { name: 'rate', node: 'Rate', sample: 'count', perSecond: true },
  { name: 'bytes_over_time', node: 'BytesOverTime', sample: 'bytes', perSecond: false },
  { name: 'bytes_rate', node: 'BytesRate', sample: 'bytes', perSecond: true }
] as const satisfies readonly RangeFunction[]

export type RangeOp = typeof RANGE_FUNCTIONS[number]['name']

const byName = new Map<string, RangeFunction>(RANGE_FUNCTIONS.map((f) => [f.name, f]))
const byNode = new Map<string, RangeFunction>(RANGE_FUNCTIONS.map((f) => [f.node, f]))

export const rangeFunction = (name: RangeOp): RangeFunction => byName.get(name)!

/** The function a grammar node names, or undefined when this server has none by it. */
export const rangeFunctionAt = (node: string): RangeFunction | undefined => byNode.get(node)

/** The names, for messages: "count_over_time, rate, … and bytes_rate". */
export const RANGE_FUNCTION_NAMES = RANGE_FUNCTIONS.map((f) => f.name).join(', ').replace(/, ([^,]*)$/, ' and $1')
