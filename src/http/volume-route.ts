import { BadQueryError } from '../core/errors.js'
import { nowUs } from '../core/timestamp.js'
import type { MetricExpr } from '../logql/ast.js'
import { parseLogql } from '../logql/parse.js'
import { DETECTED_LEVEL, LEVELS, type Level } from '../logql/detected-level.js'
import type { Settings } from '../settings/settings.js'
import { forTenants, rangePlan, runPlan } from '../shards/plan.js'
import type { ShardRouter } from '../shards/router.js'
import { json, type Answer } from './answer.js'
import { givenStepUs, lokiTime, param, tenantSeries, type Raw } from './loki-query-route.js'

// GET /logs/volume: how many entries a log query matches per time bucket,
// by detected level (error, warn, info, debug, unknown), for the explorer's
// histogram. Every number is counted by the shards, as one count_over_time
// metric query grouped by detected_level (logql/detected-level.ts: a
// level-like label or attribute, or a parsed field with `| json` /
// `| logfmt`, when the entry has one, else the most severe level word in its
// line); the front only lays the series out.
//
//   sum by (detected_level) (count_over_time(Q [step]))

/** Most buckets one answer may have. */
const MAX_BUCKETS = 2000
const DEFAULT_BUCKETS = 100
const HOUR_US = 3_600_000_000

const KNOWN = new Set(['query', 'start', 'end', 'step'])

const NICE_STEPS_US = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1e6)

/** The step in µs: given (a duration or seconds), or the range cut into about 100 round buckets. */
function stepOf (raw: Raw, start: number, end: number): number {
  const given = givenStepUs(raw)
  if (given !== null) return given
  const want = (end - start) / DEFAULT_BUCKETS
  return NICE_STEPS_US.find((s) => s >= want) ?? Math.ceil(want / 86_400e6) * 86_400e6
}

/** GET /logs/volume?query=&start=&end=&step= */
export async function logsVolume (raw: Raw, router: ShardRouter, settings: Settings, tenant: string, signal?: AbortSignal): Promise<Answer> {
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
  const limits = { maxSeries: tenantSeries(router, [tenant], settings.maxQuerySeries), maxSamples: settings.maxQuerySamples }
  const expr: Extract<MetricExpr, { kind: 'range' }> = { kind: 'range', op: 'count_over_time', log: query, rangeUs: stepUs }
  const series = await runPlan(router, forTenants(rangePlan(expr, grid, { mode: 'by', labels: [DETECTED_LEVEL] }, limits), [tenant]), '/logs/volume', signal)
  const levels = Object.fromEntries(LEVELS.map((l) => [l, new Array<number>(points).fill(0)])) as Record<Level, number[]>
  for (const { labels, values } of series) {
    const at = labels.indexOf(DETECTED_LEVEL)
    const level = (at >= 0 && at % 2 === 0 ? labels[at + 1] : 'unknown') as Level
    const into = levels[level] ?? levels.unknown
    for (let i = 0; i < points; i++) into[i]! += values[i] ?? 0
  }
  const times = Array.from({ length: points }, (_, i) => Math.round((start + i * stepUs) / 1000))
  return json(200, JSON.stringify({ start: Math.round(start / 1000), end: Math.round(end / 1000), step: stepUs / 1000, times, levels }))
}
