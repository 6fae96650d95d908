import { BadQueryError } from '../core/errors.js'
import { durationUs, nowUs } from '../core/timestamp.js'
import type { LabelExpr, LineFilter, LogQuery, MetricExpr } from '../logql/ast.js'
import { parseLogql } from '../logql/parse.js'
import type { Settings } from '../settings/settings.js'
import { rangePlan, runPlan } from '../shards/plan.js'
import type { ShardRouter } from '../shards/router.js'
import { json, type Answer } from './answer.js'
import { lokiTime } from './loki-query-route.js'

// GET /logs/volume: how many entries a log query matches per time bucket,
// by detected level (error, warn, info, debug, unknown), for the explorer's
// histogram. Every number is counted by the shards, as count_over_time
// metric queries with the grouping pushed down to them; the front only adds
// the series up. The level is Loki's detected_level idea: a level-like label
// or attribute (level, lvl, severity, detected_level; parsed fields too with
// `| json` / `| logfmt`) when the entry has one, else a word in the line.
//
//   1 query : sum by (level, lvl, severity, detected_level) (count_over_time(Q [step]))
//   4 queries, entries without such a label: Q |~ <error words>, Q |~ <warn> !~ <error>, …
//   unknown = entries without a label − the four

export const LEVELS = ['error', 'warn', 'info', 'debug', 'unknown'] as const
export type Level = typeof LEVELS[number]

const LEVEL_LABELS = ['level', 'lvl', 'severity', 'detected_level']

/** Words that name a level in a line's text, most severe first (RE2, case-insensitive, whole words). */
const LINE_WORDS: ReadonlyArray<readonly [Exclude<Level, 'unknown'>, string]> = [
  ['error', '(?i)\\b(error|err|fatal|critical|crit|panic|emerg|emergency|alert|exception)\\b'],
  ['warn', '(?i)\\b(warn|warning)\\b'],
  ['info', '(?i)\\b(info|notice|information)\\b'],
  ['debug', '(?i)\\b(debug|trace|dbg)\\b']
]

/** A label or attribute value as a level (syslog and OTLP names included). */
export function levelOf (value: string): Level {
  const v = value.trim().toLowerCase()
  if (/^(e|err|error|fatal|f|critical|crit|panic|emerg|emergency|alert|severe|[0-3])$/.test(v)) return 'error'
  if (/^(w|warn|warning|4)$/.test(v)) return 'warn'
  if (/^(i|info|information|informational|notice|[56])$/.test(v)) return 'info'
  if (/^(d|debug|dbg|trace|t|verbose|7)$/.test(v)) return 'debug'
  return 'unknown'
}

/** Most buckets one answer may have. */
const MAX_BUCKETS = 2000
const DEFAULT_BUCKETS = 100
const HOUR_US = 3_600_000_000

type Raw = Record<string, unknown>

const param = (raw: Raw, name: string): string | undefined => {
  const v = raw[name]
  if (v === undefined) return undefined
  if (Array.isArray(v)) throw new BadQueryError(`${name} was given more than once; give it once`)
  return String(v)
}

const KNOWN = new Set(['query', 'start', 'end', 'step'])

/** The step in µs: given (a duration or seconds), or the range cut into about 100 round buckets. */
function stepOf (raw: Raw, start: number, end: number): number {
  const v = param(raw, 'step')
  if (v === undefined || v === '') {
    const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1e6)
    const want = (end - start) / DEFAULT_BUCKETS
    return nice.find((s) => s >= want) ?? Math.ceil(want / 86_400e6) * 86_400e6
  }
  const us = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1e6 : durationUs(v)
  if (!(us >= 1000)) throw new BadQueryError(`step must be a duration such as 15s or a number of seconds, at least 1ms; got ${JSON.stringify(v.slice(0, 40))}`)
  return Math.round(us)
}

const withStages = (q: LogQuery, lines: LineFilter[], labels: LabelExpr[]): LogQuery => ({
  ...q,
  selection: { ...q.selection, lines: [...q.selection.lines, ...lines], labels: [...q.selection.labels, ...labels] }
})

/** `a="" and b="" and …`: the entry has none of the level labels. */
const noLevelLabel: LabelExpr = LEVEL_LABELS
  .map((name): LabelExpr => ({ kind: 'match', matcher: { name, op: '=', value: '' } }))
  .reduce((left, right) => ({ kind: 'and', left, right }))

/** GET /logs/volume?query=&start=&end=&step= */
export async function logsVolume (raw: Raw, router: ShardRouter, settings: Settings, signal?: AbortSignal): Promise<Answer> {
  for (const name in raw) if (!KNOWN.has(name)) throw new BadQueryError(`unknown parameter ${JSON.stringify(name.slice(0, 40))}; GET /logs/volume takes query, start, end and step`)
  const text = param(raw, 'query')
  if (text === undefined || text.trim() === '') throw new BadQueryError('query is missing; give a LogQL log query such as {service="api"}')
  const query = parseLogql(text)
  if (query.kind !== 'log') throw new BadQueryError('query must be a log query such as {service="api"} |= "error", not a metric query: the volume counts its entries')
  const end = lokiTime(raw, 'end', nowUs())
  const start = lokiTime(raw, 'start', end - HOUR_US)
  if (start >= end) throw new BadQueryError('start must be before end')
  const stepUs = stepOf(raw, start, end)
  const points = Math.ceil((end - start) / stepUs)
  if (points > MAX_BUCKETS) throw new BadQueryError(`the range would make ${points} buckets, more than ${MAX_BUCKETS}; raise step or narrow the range`)
  // Bucket i holds (start + i·step, start + (i+1)·step]: count_over_time over [step] evaluated at its end.
  const grid = { first: start + stepUs, stepUs, points }
  const limits = { maxSeries: settings.maxQuerySeries, maxSamples: settings.maxQuerySamples }
  const count = async (log: LogQuery, by: string[] | null): Promise<Array<{ labels: string[], values: Float64Array }>> => {
    const expr: Extract<MetricExpr, { kind: 'range' }> = { kind: 'range', op: 'count_over_time', log, rangeUs: stepUs }
    return await runPlan(router, rangePlan(expr, grid, by === null ? { mode: 'by', labels: [] } : { mode: 'by', labels: by }, limits), '/logs/volume', signal)
  }
  const levels = Object.fromEntries(LEVELS.map((l) => [l, new Array<number>(points).fill(0)])) as Record<Level, number[]>
  const add = (level: Level, values: Float64Array, sign = 1): void => {
    const into = levels[level]
    for (let i = 0; i < points; i++) into[i]! += sign * (values[i] ?? 0)
  }
  const exclude: LineFilter[] = []
  const byWords = LINE_WORDS.map(([level, pattern]) => {
    const lines: LineFilter[] = [{ op: '|~', values: [pattern] }, ...exclude]
    exclude.push({ op: '!~', values: [pattern] })
    return count(withStages(query, lines, [noLevelLabel]), null).then((series) => ({ level, series }))
  })
  const [labelled, ...worded] = await Promise.all([count(query, LEVEL_LABELS), ...byWords])
  for (const { labels, values } of labelled!) {
    const named = new Map<string, string>()
    for (let i = 0; i + 1 < labels.length; i += 2) named.set(labels[i]!, labels[i + 1]!)
    const value = LEVEL_LABELS.map((n) => named.get(n)).find((v) => v !== undefined)
    // Without a level label: counted by its words below; what none of them names is unknown.
    add(value === undefined ? 'unknown' : levelOf(value), values)
  }
  for (const { level, series } of worded) {
    for (const { values } of series) {
      add(level, values)
      add('unknown', values, -1)
    }
  }
  const times = Array.from({ length: points }, (_, i) => Math.round((start + i * stepUs) / 1000))
  return json(200, JSON.stringify({ start: Math.round(start / 1000), end: Math.round(end / 1000), step: stepUs / 1000, times, levels }))
}
