import { BadQueryError } from '../core/errors.js'
import { acceptanceWindow } from '../ingest/entry.js'
import { encodeServiceCursor, parseLogsQuery, parseServicesQuery } from './query-params.js'
import type { PageLayout } from '../shards/page.js'
import { forTenants, logsPagePlan, newTiming, runLentPlan, serverTiming } from '../shards/plan.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { formatTimestamp, nowUs } from '../core/timestamp.js'
import { json, type Answer } from './answer.js'

const TYPES: Record<PageLayout, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  text: 'text/plain; charset=utf-8'
}

/** The layout a GET /logs or /services asks for: `format=`, else the first of NDJSON or text its Accept header names, else JSON. */
export function pageLayout (format: unknown, accept: string | undefined): PageLayout {
  if (format !== undefined) {
    if (format === 'json' || format === 'ndjson' || format === 'text') return format
    throw new BadQueryError('format must be json, ndjson or text (or leave it out and send an Accept header)')
  }
  for (const type of (accept ?? '').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase())) {
    if (type === 'application/x-ndjson' || type === 'application/jsonl') return 'ndjson'
    if (type === 'text/plain') return 'text'
    if (type === 'application/json') return 'json'
  }
  return 'json'
}

/** GET /logs's `partial`: true answers without the shards (cluster partitions) that cannot answer, naming them in Logagg-Partial. */
function parsePartial (value: unknown): boolean {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  throw new BadQueryError('partial must be true or false')
}

/**
 * GET /logs: fan out to the shards involved, merge their sorted parts, render
 * one page: JSON (`{"logs", "next"}`), NDJSON (a line per entry, then
 * `{"next"}` when there is more) or text (a line per entry; the next page in
 * a Link header).
 */
export async function queryLogs (raw: Record<string, unknown>, router: ShardRouter, settings: Settings, tenant: string, signal?: AbortSignal, accept?: string): Promise<Answer> {
  const now = nowUs()
  const { format, partial: partialText, ...rest } = raw
  const layout = pageLayout(format, accept)
  // By default, everything the store can hold: the acceptance window.
  const window = acceptanceWindow(settings, now)
  const plan = logsPagePlan(parseLogsQuery(rest, { start: window.oldest, end: window.newest }), layout, settings.maxPageBytes)
  const timing = newTiming()
  const options = { partial: parsePartial(partialText), missing: [] as number[] }
  const { value: { chunks, next }, giveBack } = await runLentPlan(router, forTenants(plan, [tenant]), '/logs', signal, timing, options)
  const headers: Record<string, string> = { 'server-timing': serverTiming(timing) }
  // partial=true: the shards (cluster partitions) left out of this page, so a client knows it is not whole.
  if (options.missing.length > 0) headers['logagg-partial'] = options.missing.sort((a, b) => a - b).join(',')
  if (layout === 'json') return { ...json(200, chunks, headers), done: giveBack }
  return { status: 200, body: chunks, headers: { 'content-type': TYPES[layout], ...headers, ...nextHeaders('/logs', raw, next) }, done: giveBack }
}

/**
 * GET /services: a page of the services held, in name order, with entry
 * counts and time spans, in GET /logs's layouts: JSON (`{"services", "next"}`),
 * NDJSON (a line per service, then `{"next"}` when there is more) or text
 * (`<service> <count> <oldest> <newest>` lines; the next page in a Link header).
 */
export async function listServices (raw: Record<string, unknown>, router: ShardRouter, tenant: string, accept?: string): Promise<Answer> {
  const { format, ...rest } = raw
  const layout = pageLayout(format, accept)
  const { limit, after } = parseServicesQuery(rest)
  const page = await router.services(after, limit, tenant)
  const services = page.services.map((s) => ({
    service: s.service,
    count: s.count,
    oldest: formatTimestamp(s.oldest),
    newest: formatTimestamp(s.newest)
  }))
  const last = services[services.length - 1]
  const next = page.more && last !== undefined ? encodeServiceCursor(last.service) : null
  if (layout === 'json') return json(200, JSON.stringify({ services, next }))
  if (layout === 'ndjson') {
    const lines = services.map((s) => `${JSON.stringify(s)}\n`).join('')
    return { status: 200, body: next === null ? lines : `${lines}${JSON.stringify({ next })}\n`, headers: { 'content-type': TYPES.ndjson } }
  }
  return {
    status: 200,
    body: services.map((s) => `${s.service} ${s.count} ${s.oldest} ${s.newest}\n`).join(''),
    headers: { 'content-type': TYPES.text, ...nextHeaders('/services', raw, next) }
  }
}

/** The Link (rel="next") and Logagg-Next-Cursor headers of a text or NDJSON page that has a next one. */
function nextHeaders (path: string, raw: Record<string, unknown>, next: string | null): Record<string, string> {
  if (next === null) return {}
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(raw)) if (k !== 'cursor') for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one))
  params.set('cursor', next)
  return { link: `<${path}?${params.toString()}>; rel="next"`, 'logagg-next-cursor': next }
}
