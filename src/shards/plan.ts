import { BadQueryError } from '../core/errors.js'
import type { Grouping, LabelMatcher, LogQuery, LogSelection, MetricExpr } from '../logql/ast.js'
import type { Fetch, Grid } from '../logql/evaluate.js'
import { compileRegex, compileSelection, singleService } from '../logql/match.js'
import { metricLimitError, type MetricLimits } from '../logql/metric-limits.js'
import { rangeFunction } from '../logql/range-functions.js'
import type { RenderFormat } from '../store/render/index.js'
import type { LokiShape } from '../store/render/loki-streams.js'
import type { AttrMatch, QueryPart } from '../store/shard-messages.js'
import { lokiStreamsBody } from './loki-streams-page.js'
import { TENANT_LABEL } from '../store/stream.js'
import { mergeEntries, renderPageAs, type MergedEntry, type PageLayout } from './page.js'
import type { QueryRoute } from './meter.js'
import type { QueryOptions, QueryTiming, RouterQuery, ShardRouter } from './router.js'

// The one query planner. Every query the server runs (a GET /logs page, a
// LogQL log query, each range aggregation of a LogQL metric query, the
// replay of a tail, the lines detected_fields reads) is planned here into
//
//   shard: what every shard involved runs over its own entries: which
//          services (one shard when the selector names one service), the
//          range, the filters, the parser, drop / keep and line_format, and
//          either the renderer its entries are written by or the counting
//          of a range aggregation (store/query-run.ts runs it);
//   front: what the front thread runs over the shards' sorted parts: the
//          k-way merge and the page, the grouping of Loki streams, the sum
//          of series across shards.
//
// A stage runs on the shards whenever it can (it then runs in parallel and
// near the data); only what needs every shard's answer runs on the front.
// Routes validate their parameters, ask for a plan, run it and write the
// answer; none of them builds a shard query itself. Every regex of a query
// is compiled while planning, so a bad one is a 400 before any shard runs.

/** A planned query: the shards' part and the front's stage over what they return. */
export interface Plan<T> {
  readonly shard: RouterQuery
  readonly front: (parts: QueryPart[]) => T
}

/** Runs `plan`: its shard part on the shards involved, then its front stage over their parts; `timing` is told where the time went. */
export async function runPlan<T> (router: ShardRouter, plan: Plan<T>, route: QueryRoute, signal?: AbortSignal, timing?: QueryTiming): Promise<T> {
  const parts = await router.query(plan.shard, route, signal, timing)
  if (timing === undefined) return plan.front(parts)
  const from = performance.now()
  const out = plan.front(parts)
  timing.frontMs = performance.now() - from
  return out
}

/**
 * runPlan for a plan whose front stage makes views of the parts' bytes (a
 * page to write): the shards may make the parts in memory they lend, and
 * `giveBack` returns it once the views were written (or will never be).
 */
export async function runLentPlan<T> (router: ShardRouter, plan: Plan<T>, route: QueryRoute, signal?: AbortSignal, timing?: QueryTiming, options?: QueryOptions): Promise<{ value: T, giveBack: () => void }> {
  const parts = await router.query({ ...plan.shard, lend: true }, route, signal, timing, options)
  const giveBack = (): void => router.giveBack(parts)
  try {
    const from = performance.now()
    const value = plan.front(parts)
    if (timing !== undefined) timing.frontMs = performance.now() - from
    return { value, giveBack }
  } catch (err) {
    giveBack()
    throw err
  }
}

/** `plan` over the entries of `tenants` only (several: a query across tenants, whose answers name each one's __tenant_id__). */
export function forTenants<T> (plan: Plan<T>, tenants: string[]): Plan<T> {
  return { shard: { ...plan.shard, tenants }, front: plan.front }
}

/** `select` narrowed to the streams of `tenant` (what a live tail, matched on the shards by its selection alone, needs). */
export function tenantSelection (select: LogSelection, tenant: string): LogSelection {
  return { ...select, selector: [...select.selector, { name: TENANT_LABEL, op: '=', value: tenant }] }
}

/** A Server-Timing header value for `timing` (the browser's network panel and curl -v show it). */
export function serverTiming (timing: QueryTiming): string {
  const ms = (n: number): string => n.toFixed(2)
  return `hop;dur=${ms(timing.hopMs)};desc="to the slowest shard and back", shard;dur=${ms(timing.shardMs)};desc="run ${ms(timing.runMs)} ms", merge;dur=${ms(timing.frontMs)}`
}

/** A timing to fill in. */
export const newTiming = (): QueryTiming => ({ hopMs: 0, shardMs: 0, runMs: 0, frontMs: 0 })

/** GET /logs's parameters, validated (http/query-params.ts). */
export interface LogsRequest {
  /** null: every service. */
  services: string[] | null
  start: number
  end: number
  descending: boolean
  limit: number
  after: { ts: number, seq: number } | null
  contains: string | null
  attrs: AttrMatch[]
  /** An RE2 pattern the message must match, or null. */
  regex: string | null
}

/** The range and order of a log query's entries. */
export interface LogRange { start: number, end: number, descending: boolean, limit: number }

/** The render format of each GET /logs layout. */
const LAYOUT_FORMAT: Record<PageLayout, RenderFormat> = { json: 'native', ndjson: 'ndjson', text: 'text' }

/** A page of GET /logs: the shards filter and render, the front merges and lays out. */
export function logsPagePlan (req: LogsRequest, layout: PageLayout, maxBytes: number): Plan<{ chunks: Uint8Array[], next: string | null }> {
  const { regex, ...rest } = req
  const shard: RouterQuery = { ...rest, format: LAYOUT_FORMAT[layout] }
  // The substring and attribute filters run on the stored escaped bytes; a regex is a LogQL line filter.
  if (regex !== null) {
    compileRegex(regex)
    shard.select = { selector: [], lines: [{ op: '|~', values: [regex] }], labels: [] }
  }
  return { shard, front: (parts) => renderPageAs(parts, req.descending, req.limit, maxBytes, layout) }
}

/** A regex matching exactly one of `names`. */
const oneOf = (names: string[]): string => names.map((n) => n.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')).join('|')

/** GET /logs's filters as a LogQL selection (what a tail of them selects). */
export function logsSelection (req: LogsRequest): LogSelection {
  const selector: LabelMatcher[] = req.services === null
    ? [{ name: 'service', op: '=~', value: '.+' }]
    : req.services.length === 1 ? [{ name: 'service', op: '=', value: req.services[0]! }] : [{ name: 'service', op: '=~', value: oneOf(req.services) }]
  const select: LogSelection = {
    selector,
    lines: [
      ...(req.contains === null ? [] : [{ op: '|=' as const, values: [req.contains] }]),
      ...(req.regex === null ? [] : [{ op: '|~' as const, values: [req.regex] }])
    ],
    labels: req.attrs.map((a) => ({ kind: 'match' as const, matcher: { name: a.key, op: '=' as const, value: a.value } }))
  }
  compileSelection(select)
  return select
}

/** The shard part of a LogQL selection over a range, to the service's shard alone when the selector names one. */
function selectionQuery (select: LogSelection, range: LogRange, after: RouterQuery['after'] = null): RouterQuery {
  compileSelection(select)
  const service = singleService(select.selector)
  return { services: service === null ? null : [service], ...range, after, contains: null, attrs: [], select }
}

/**
 * A Loki log query (query_range, query): the shards parse, drop / keep and
 * line_format each entry and render its value and an index into the part's
 * label sets; the front merges and groups them by that index (loki-streams-page.ts).
 */
export function lokiStreamsPlan (query: LogQuery, range: LogRange, maxBytes: number, categorize: boolean): Plan<Uint8Array[]> {
  const loki: LokiShape = { parser: query.selection.parser, labelStages: query.labelStages, lineFormat: query.lineFormat, categorize }
  const shard: RouterQuery = { ...selectionQuery(query.selection, range), format: 'loki-answer', loki }
  return { shard, front: (parts) => lokiStreamsBody(parts, range.descending, range.limit, maxBytes, categorize) }
}

/** The entries a log query matches, each rendered by the shards in `format`, merged in order (detected_fields reads the fields of each). */
export function entriesPlan (select: LogSelection, range: LogRange, format: RenderFormat, after: RouterQuery['after'] = null): Plan<{ entries: MergedEntry[], more: boolean }> {
  const shard: RouterQuery = { ...selectionQuery(select, range, after), format }
  return { shard, front: (parts) => mergeEntries(parts, range.descending, range.limit) }
}

/**
 * One range aggregation of a metric query (`count_over_time({…}[5m])`):
 * the shards count the matching entries per series and evaluation time,
 * grouped already when the query sums them anyway, each stopping at the
 * limits; the front takes every shard's series and checks the limits over
 * their sum. What is done with the series after (sum, rate, binary
 * operations) is the evaluator's (logql/evaluate.ts), on the front too.
 */
export function rangePlan (expr: Extract<MetricExpr, { kind: 'range' }>, grid: Grid, groupBy: Grouping | null, limits: MetricLimits): Plan<Awaited<ReturnType<Fetch>>> {
  const { selection, labelStages } = expr.log
  // With `offset`, every window is that much earlier: the shards count on a grid moved back by it.
  const first = grid.first - (expr.offsetUs ?? 0)
  const range = { start: first - expr.rangeUs + 1, end: first + (grid.points - 1) * grid.stepUs, descending: false, limit: 1 }
  const shard: RouterQuery = {
    ...selectionQuery(selection, range),
    metric: {
      op: rangeFunction(expr.op).sample,
      first,
      stepUs: grid.stepUs,
      points: grid.points,
      rangeUs: expr.rangeUs,
      // Unwrapped values are grouped by the function's own by / without only: the function runs on the front, over each group's values.
      groupBy: expr.unwrap === undefined ? groupBy : expr.grouping ?? null,
      labelStages,
      ...(selection.parser === undefined ? {} : { parser: selection.parser }),
      ...(expr.unwrap === undefined ? {} : { unwrap: expr.unwrap }),
      ...limits
    }
  }
  return {
    shard,
    front: (parts) => {
      const series = parts.flatMap((p) => p.series ?? [])
      // Shards hold different services, but a grouping without service meets across shards: count distinct label sets.
      const distinct = new Set(series.map((s) => s.labels.join('\u0000'))).size
      const refused = metricLimitError(distinct, grid.points, limits)
      if (refused !== null) throw new BadQueryError(refused)
      return series
    }
  }
}
