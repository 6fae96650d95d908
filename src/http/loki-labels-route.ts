import { BadQueryError } from '../core/errors.js'
import type { LabelMatcher } from '../logql/ast.js'
import type { StreamStats } from '../store/shard-messages.js'
import { parseLogql } from '../logql/parse.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { durationUs } from '../core/timestamp.js'
import { callRange, type LokiAnswer } from './loki-query-route.js'
import { entriesPlan, forTenants, runPlan } from '../shards/plan.js'
import { FIELD_SOURCE } from '../store/render/detected-fields.js'

// Loki's label browser API, answered from the shards' streams: label names
// (/labels), a label's values (/label/<name>/values), label sets
// (/series), and how much a selector covers (/index/stats); and the fields
// of recent lines (/detected_fields). Stream labels
// only, service included; structured metadata is not indexed, as in Loki.
// Counts are of whole blocks overlapping the range, so estimates at its edges.

/** Most streams one shard lists for one call; past it the answer is refused rather than cut silently. */
const MAX_STREAMS = 10_000

type Raw = Record<string, unknown>

const success = (data: unknown): LokiAnswer => ({ status: 200, body: JSON.stringify({ status: 'success', data }) })

/** The selector of a `query` or `match[]` parameter. */
function selectorOf (text: string, name: string): LabelMatcher[] {
  const q = parseLogql(text)
  if (q.kind !== 'log') throw new BadQueryError(`${name} must be a stream selector such as {service="api"}`)
  return q.selection.selector
}

/** The streams `selector` matches in the call's range; refused rather than cut when a shard has too many. */
async function streamsOf (raw: Raw, router: ShardRouter, settings: Settings, selector: LabelMatcher[] | null, tenants: string[]): Promise<StreamStats[]> {
  const { start, end } = callRange(raw, settings)
  const { streams, more } = await router.streams(start, end, selector, MAX_STREAMS, tenants)
  if (more) throw new BadQueryError(`more than ${MAX_STREAMS} streams match on one shard; narrow the selector or the time range`)
  return streams
}

const optionalSelector = (raw: Raw): LabelMatcher[] | null => {
  const q = raw.query
  return typeof q === 'string' && q.trim() !== '' ? selectorOf(q, 'query') : null
}

/** GET /loki/api/v1/labels */
export async function labelNames (raw: Raw, router: ShardRouter, settings: Settings, tenants: string[]): Promise<LokiAnswer> {
  const names = new Set<string>()
  for (const { labels } of await streamsOf(raw, router, settings, optionalSelector(raw), tenants)) for (let i = 0; i < labels.length; i += 2) names.add(labels[i]!)
  return success([...names].sort())
}

/** GET /loki/api/v1/label/<name>/values */
export async function labelValues (name: string, raw: Raw, router: ShardRouter, settings: Settings, tenants: string[]): Promise<LokiAnswer> {
  const values = new Set<string>()
  for (const { labels } of await streamsOf(raw, router, settings, optionalSelector(raw), tenants)) {
    for (let i = 0; i < labels.length; i += 2) if (labels[i] === name) values.add(labels[i + 1]!)
  }
  return success([...values].sort())
}

/** GET /loki/api/v1/series: the label sets of the streams any match[] selector matches. */
export async function series (raw: Raw, router: ShardRouter, settings: Settings, tenants: string[]): Promise<LokiAnswer> {
  const given = raw['match[]'] ?? raw.match
  const texts = given === undefined ? [] : (Array.isArray(given) ? given : [given]).map(String)
  const seen = new Map<string, Record<string, string>>()
  for (const selector of texts.length === 0 ? [null] : texts.map((t) => selectorOf(t, 'match[]'))) {
    for (const { labels: pairs } of await streamsOf(raw, router, settings, selector, tenants)) {
      const labels: Record<string, string> = {}
      for (let i = 0; i < pairs.length; i += 2) labels[pairs[i]!] = pairs[i + 1]!
      seen.set(JSON.stringify(pairs), labels)
    }
  }
  return success([...seen.values()])
}

/** GET /loki/api/v1/index/stats: streams, blocks ("chunks"), bytes held and entries under a selector. */
export async function indexStats (raw: Raw, router: ShardRouter, settings: Settings, tenants: string[]): Promise<LokiAnswer> {
  const q = raw.query
  if (typeof q !== 'string' || q.trim() === '') throw new BadQueryError('query is missing; give a stream selector such as {service="api"}')
  const streams = await streamsOf(raw, router, settings, selectorOf(q, 'query'), tenants)
  let chunks = 0
  let bytes = 0
  let entries = 0
  for (const s of streams) {
    chunks += s.blocks
    bytes += s.bytes
    entries += s.entries
  }
  // Loki answers these bare, without the status envelope.
  return { status: 200, body: JSON.stringify({ streams: streams.length, chunks, bytes, entries }) }
}

/** Lines detected_fields looks at, and field values counted per field, at most. */
const DETECT_LINES = 1000
const MAX_DISTINCT = 1000

/** A value's type as Loki's detected_fields names it. */
function fieldType (v: string): string {
  if (/^-?\d+$/.test(v)) return 'int'
  if (/^-?\d*\.\d+([eE][-+]?\d+)?$/.test(v)) return 'float'
  if (v === 'true' || v === 'false') return 'boolean'
  if (!Number.isNaN(durationUs(v))) return 'duration'
  if (/^\d+(\.\d+)?\s?([KMGTPE]i?)?B$/.test(v)) return 'bytes'
  return 'string'
}

/**
 * GET /loki/api/v1/detected_fields: the fields found in the newest lines a
 * query matches (up to `line_limit`, default 1000): structured metadata, and
 * what | json or | logfmt reads from each line, with each field's type,
 * cardinality and parsers, as Grafana's field browser asks for them.
 */
export async function detectedFields (raw: Raw, router: ShardRouter, settings: Settings, tenants: string[]): Promise<LokiAnswer> {
  const q = raw.query
  if (typeof q !== 'string' || q.trim() === '') throw new BadQueryError('query is missing; give a log query such as {service="api"}')
  const query = parseLogql(q)
  if (query.kind !== 'log') throw new BadQueryError('detected_fields takes a log query such as {service="api"}')
  const lineLimit = raw.line_limit === undefined ? DETECT_LINES : Number(raw.line_limit)
  if (!Number.isInteger(lineLimit) || lineLimit < 1 || lineLimit > 5000) throw new BadQueryError('line_limit must be a whole number from 1 to 5000')
  // The shards find each entry's fields (store/render/detected-fields.ts); here they are only counted.
  const { entries } = await runPlan(router, forTenants(entriesPlan(query.selection, { ...callRange(raw, settings), descending: true, limit: lineLimit }, 'fields'), tenants), '/loki/api/v1/detected_fields')
  const found = new Map<string, { values: Set<string>, types: Set<string>, parsers: Set<string> }>()
  for (const e of entries) {
    const t = Buffer.from(e.body.buffer, e.body.byteOffset, e.body.length).toString('utf8').split('\0')
    for (let k = 0; k + 1 < t.length; k += 2) {
      const name = t[k]!.slice(1)
      const value = t[k + 1]!
      let f = found.get(name)
      if (f === undefined) found.set(name, f = { values: new Set(), types: new Set(), parsers: new Set() })
      if (f.values.size < MAX_DISTINCT) f.values.add(value)
      f.types.add(fieldType(value))
      const parser = FIELD_SOURCE[t[k]![0] as keyof typeof FIELD_SOURCE]
      if (parser !== null) f.parsers.add(parser)
    }
  }
  const fields = [...found].sort(([a], [b]) => (a < b ? -1 : 1)).map(([label, f]) => ({
    label,
    type: f.types.size === 1 ? [...f.types][0] : 'string',
    cardinality: f.values.size,
    parsers: f.parsers.size === 0 ? null : [...f.parsers].sort()
  }))
  return { status: 200, body: JSON.stringify({ fields, limit: lineLimit }) }
}
