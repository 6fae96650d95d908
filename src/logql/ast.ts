// The LogQL subset this server runs, as plain data: it is built on the front
// thread (parse.ts) and the part that selects entries (LogSelection) travels
// to the shards inside a ShardQuery, so it holds nothing but strings, arrays
// and objects.

export type MatchOp = '=' | '!=' | '=~' | '!~'

/** `name op "value"`: a stream selector matcher or a label filter. Regexes are anchored at both ends, as in Loki. */
export interface LabelMatcher { name: string, op: MatchOp, value: string }

/**
 * A line filter: `|= "a"`, `!= "a"`, `|~ "re"`, `!~ "re"`. With `or`
 * (`|= "a" or "b"`) a line passes a positive filter when any value matches,
 * and a negative one when none does. Regexes match anywhere in the line.
 */
export interface LineFilter {
  op: '|=' | '!=' | '|~' | '!~'
  values: string[]
  /** `|= ip("10.0.0.0/8")` / `!= ip(…)`: the values are ip() patterns (logql/ip.ts), matched by the addresses in the line. */
  ip?: true
}

export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<='

/**
 * `name > 10`, `latency >= 250ms`, `size < 2KiB`: the label's value read as a
 * number, a Go duration (value in ns) or a byte size (value in bytes) and
 * compared with `value`.
 */
export interface LabelComparison { name: string, op: CompareOp, value: number, unit: 'number' | 'duration' | 'bytes' }

/** A label filter expression: matchers and comparisons joined by `and` (also `,` or a space) and `or`. */
export type LabelExpr =
  | { kind: 'match', matcher: LabelMatcher }
  | { kind: 'compare', comparison: LabelComparison }
  /** `addr = ip("10.0.0.0/8")`, `addr != ip(…)`: the label's value is an address the pattern holds (or not). */
  | { kind: 'ip', name: string, negate: boolean, pattern: string }
  | { kind: 'and' | 'or', left: LabelExpr, right: LabelExpr }

/** What the shards run for a log query: which streams, then which of their entries. */
export interface LogSelection {
  /** The stream selector; `service` is matched like any other label. */
  selector: LabelMatcher[]
  lines: LineFilter[]
  /**
   * Each must hold; the labels an entry is matched on are its stream's labels,
   * its service, its attributes and, with a parser, the fields of its line.
   */
  labels: LabelExpr[]
  /** `| json` or `| logfmt`: the line's fields become labels for label filters and grouping. */
  parser?: 'json' | 'logfmt'
}

/** A log query: the selection, then what is done to the labels of each result stream (on the front). */
export interface LogQuery {
  kind: 'log'
  selection: LogSelection
  /** `| drop a, b` / `| keep a, b`, in order. */
  labelStages: Array<{ kind: 'drop' | 'keep', names: string[] }>
  /**
   * `| line_format "…{{.name}}…"`: the line shown is the template with each
   * `{{.name}}` replaced by that label's value (on the front, last). Only
   * field references: other template syntax is refused.
   */
  lineFormat?: string
}

import type { Conversion, RangeOp } from './range-functions.js'

export type { RangeOp }
/** `| unwrap latency`, `| unwrap duration(latency)`, `| unwrap bytes(size)`. */
export interface Unwrap { name: string, conversion: Conversion }
export type VectorOp = 'sum' | 'count' | 'min' | 'max' | 'avg' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'sort' | 'sort_desc'
export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^'
/** PromQL's set operators between vectors. */
export type SetOp = 'and' | 'or' | 'unless'
export type BinaryOp = ArithmeticOp | CompareOp | SetOp
export interface Grouping { mode: 'by' | 'without', labels: string[] }

/**
 * A metric query: numbers, vector(n), range aggregations over a log query,
 * vector aggregations over those, and arithmetic, comparisons and set
 * operators between them.
 */
export type MetricExpr =
  | { kind: 'number', value: number, vector: boolean }
  /** `bool`: a comparison gives 1 or 0 instead of keeping or dropping the left side's samples. */
  | { kind: 'binary', op: BinaryOp, left: MetricExpr, right: MetricExpr, bool?: true }
  /**
   * `offsetUs`: `offset 5m`, each window that much earlier (negative: later).
   * `unwrap`: the label whose values a *_over_time function takes; `param`:
   * quantile_over_time's φ; `grouping`: the function's own `by (…)` /
   * `without (…)`, applied to the values before the function.
   */
  | { kind: 'range', op: RangeOp, log: LogQuery, rangeUs: number, offsetUs?: number, unwrap?: Unwrap, param?: number, grouping?: Grouping }
  /** `label_replace(v, "dst", "replacement", "src", "regex")`: PromQL's, the regex anchored, `$1` / `${name}` expanded. */
  | { kind: 'label_replace', inner: MetricExpr, dst: string, replacement: string, src: string, regex: string }
  | { kind: 'aggregate', op: VectorOp, grouping: Grouping | null, param: number | null, inner: MetricExpr }

export interface MetricQuery { kind: 'metric', expr: MetricExpr }

export type Query = LogQuery | MetricQuery
