import { BadQueryError } from '../core/errors.js'
import type { LogQuery, MetricExpr } from '../logql/ast.js'
import { evaluate, type Fetch, type Grid } from '../logql/evaluate.js'
import { parseLogql } from '../logql/parse.js'
import { forTenants, lokiStreamsPlan, rangePlan, runLentPlan, runPlan } from '../shards/plan.js'
import type { Settings } from '../settings/settings.js'
import type { QueryRoute } from '../shards/meter.js'
import type { ShardRouter } from '../shards/router.js'
import { durationUs, nowUs, parseTimestamp, relativeTime } from '../core/timestamp.js'
import { metricAnswerChunks } from './loki-metric-answer.js'

// Loki's query API, as far as Grafana's Loki data source and logcli need it:
// /loki/api/v1/query_range and /loki/api/v1/query run a LogQL log query on
// the shards (src/logql/) and answer `streams`; a metric query has the shards
// count per series and step and answers `matrix` (range) or `vector`
// (instant), or `scalar` for numbers alone (Grafana's "Save & test" sends
// `vector(1)+vector(1)`). Errors are Loki's JSON error shape.

/** Loki's default and largest page of a log query. */
const DEFAULT_LIMIT = 100
const MAX_LIMIT = 5000
const HOUR_US = 3_600_000_000
/** Loki's most evaluation times in one range query. */
const MAX_POINTS = 11_000

/** A Loki answer: JSON text, or byte chunks written in order (metric answers). */
export interface LokiAnswer { status: number, body: string | Uint8Array[], done?: () => void }

export type Raw = Record<string, unknown>

/** A query-string parameter given at most once (an array means it was repeated: 400). */
export const param = (raw: Raw, name: string): string | undefined => {
  const v = raw[name]
  if (v === undefined) return undefined
  if (Array.isArray(v)) throw new BadQueryError(`${name} was given more than once; give it once`)
  return String(v)
}

/** The range of a label or field call: `end` (default now), `start` (default `since`, else the retention window, before it). */
export function callRange (raw: Raw, settings: Settings): { start: number, end: number } {
  const end = lokiTime(raw, 'end', nowUs())
  return { start: lokiTime(raw, 'start', sinceStart(raw, end, settings.retention * 1000)), end }
}

/**
 * A time parameter in epoch µs: RFC 3339, a Unix time as Loki's API
 * documents it (integers in nanoseconds, decimals in seconds:
 * `1700000000.5`), or relative to now (`now`, `now-15m`).
 */
export function lokiTime (raw: Raw, name: string, fallback: number): number {
  const v = param(raw, name)
  if (v === undefined || v === '') return fallback
  if (/^\d{1,19}$/.test(v)) return v.length <= 3 ? 0 : Number(v.slice(0, -3))
  if (/^\d{1,12}\.\d*$/.test(v)) return Math.round(Number(v) * 1e6)
  let us = parseTimestamp(v)
  if (Number.isNaN(us)) us = relativeTime(v, nowUs())
  if (Number.isNaN(us)) throw new BadQueryError(`${name} must be a Unix time in nanoseconds, seconds with a decimal point, RFC 3339, or relative to now such as now-15m; got ${JSON.stringify(v.slice(0, 40))}`)
  return us
}

/** The default start: `since` (a duration) before `end`, else `fallback` before it. */
function sinceStart (raw: Raw, end: number, fallbackUs: number): number {
  const v = param(raw, 'since')
  if (v === undefined || v === '') return end - fallbackUs
  const us = durationUs(v)
  if (Number.isNaN(us)) throw new BadQueryError(`since must be a duration such as 15m or 1h; got ${JSON.stringify(v.slice(0, 40))}`)
  return end - us
}

function limitOf (raw: Raw): number {
  const v = param(raw, 'limit')
  if (v === undefined || v === '') return DEFAULT_LIMIT
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new BadQueryError(`limit must be a whole number from 1 to ${MAX_LIMIT}; got ${JSON.stringify(v)}`)
  if (n > MAX_LIMIT) throw new BadQueryError(`limit is larger than the most entries a query may return (${MAX_LIMIT})`)
  return n
}

function descendingOf (raw: Raw): boolean {
  const v = (param(raw, 'direction') ?? 'backward').toLowerCase()
  if (v !== 'backward' && v !== 'forward') throw new BadQueryError(`direction must be forward or backward; got ${JSON.stringify(v)}`)
  return v === 'backward'
}

function queryText (raw: Raw): string {
  const q = param(raw, 'query')
  if (q === undefined) throw new BadQueryError('query is missing; give a LogQL query such as {service="api"}')
  return q
}

/** An error of a query route in Loki's shape. */
export function lokiQueryError (status: number, message: string): LokiAnswer {
  return { status, body: JSON.stringify({ status: 'error', errorType: status === 400 ? 'bad_data' : 'internal', error: message }) }
}

/** The `step` parameter in µs: a duration (`15s`) or seconds, at least 1 ms; null when it is not given. */
export function givenStepUs (raw: Raw): number | null {
  const v = param(raw, 'step')
  if (v === undefined || v === '') return null
  const us = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1e6 : durationUs(v)
  if (!(us >= 1000)) throw new BadQueryError(`step must be a duration such as 15s or a number of seconds, at least 1ms; got ${JSON.stringify(v.slice(0, 40))}`)
  return Math.round(us)
}

/** The step of a range query, in µs: as given, or Loki's default, which aims at about 250 points. */
const stepOf = (raw: Raw, start: number, end: number): number =>
  givenStepUs(raw) ?? Math.max(Math.floor((end - start) / 250 / 1e6), 1) * 1e6

/** GET /loki/api/v1/query_range */
export async function queryRange (raw: Raw, router: ShardRouter, settings: Settings, flags: string, tenants: string[], signal?: AbortSignal): Promise<LokiAnswer> {
  const query = parseLogql(queryText(raw))
  const now = nowUs()
  const end = lokiTime(raw, 'end', now)
  const start = lokiTime(raw, 'start', sinceStart(raw, end, HOUR_US))
  if (start > end) throw new BadQueryError('start is after end; give a start before the end')
  if (query.kind === 'log') return await logAnswer(query, start, end, raw, router, settings, flags, '/loki/api/v1/query_range', tenants, signal)
  const stepUs = stepOf(raw, start, end)
  const points = Math.floor((end - start) / stepUs) + 1
  if (points > MAX_POINTS) throw new BadQueryError(`the query would make ${points} points per series, more than ${MAX_POINTS}; raise step or narrow the range`)
  const grid = { first: start, stepUs, points }
  return await metricAnswer(query.expr, grid, 'matrix', router, settings, '/loki/api/v1/query_range', tenants, signal)
}

/** GET /loki/api/v1/query: an instant query at `time`; a log query looks back one hour from it, as query_range does by default. */
export async function queryInstant (raw: Raw, router: ShardRouter, settings: Settings, flags: string, tenants: string[], signal?: AbortSignal): Promise<LokiAnswer> {
  const query = parseLogql(queryText(raw))
  const time = lokiTime(raw, 'time', nowUs())
  if (query.kind === 'log') return await logAnswer(query, time - HOUR_US, time, raw, router, settings, flags, '/loki/api/v1/query', tenants, signal)
  const grid = { first: time, stepUs: 1, points: 1 }
  return await metricAnswer(query.expr, grid, 'vector', router, settings, '/loki/api/v1/query', tenants, signal)
}

/** MAX_QUERY_SERIES, or less when a tenant's max_query_series (LIMITS_FILE) is lower. */
export function tenantSeries (router: ShardRouter, tenants: readonly string[], max: number): number {
  for (const t of tenants) max = Math.min(max, router.limitsOf(t)?.maxQuerySeries ?? Infinity)
  return max
}

/** Evaluates a metric query, each of its range aggregations planned onto the shards, and writes its answer within the series, sample, byte and time limits. */
async function metricAnswer (expr: MetricExpr, grid: Grid, kind: 'vector' | 'matrix', router: ShardRouter, settings: Settings, route: QueryRoute, tenants: string[], signal?: AbortSignal): Promise<LokiAnswer> {
  const deadline = Date.now() + settings.queryTimeout
  const limits = { maxSeries: tenantSeries(router, tenants, settings.maxQuerySeries), maxSamples: settings.maxQuerySamples }
  const fetch: Fetch = async (range, groupBy) => await runPlan(router, forTenants(rangePlan(range, grid, groupBy, limits), tenants), route, signal)
  const value = await evaluate(expr, grid, fetch)
  return { status: 200, body: await metricAnswerChunks(value, grid, kind, { maxBytes: settings.maxPageBytes, deadline }) }
}

/**
 * The Loki version whose API this server answers as, in buildinfo: Grafana
 * turns features on and off by it, so it names the Loki API level (3.x:
 * structured metadata, categorize-labels), not this server's own version.
 */
export const LOKI_API_VERSION = '3.0.0'

/** What Grafana reads to tell which Loki it talks to. */
export function buildInfo (version: string): LokiAnswer {
  return { status: 200, body: JSON.stringify({ version, revision: 'logagg', branch: '', buildUser: '', buildDate: '', goVersion: '' }) }
}

async function logAnswer (query: LogQuery, start: number, end: number, raw: Raw, router: ShardRouter, settings: Settings, flags: string, route: QueryRoute, tenants: string[], signal?: AbortSignal): Promise<LokiAnswer> {
  const categorize = flags.split(',').map((f) => f.trim()).includes('categorize-labels')
  const range = { start, end, descending: descendingOf(raw), limit: limitOf(raw) }
  const { value: body, giveBack } = await runLentPlan(router, forTenants(lokiStreamsPlan(query, range, settings.maxPageBytes, categorize), tenants), route, signal)
  return { status: 200, body, done: giveBack }
}
