import { BadQueryError } from '../errors.js'
import type { LabelMatcher } from '../logql/ast.js'
import { parseLogql } from '../logql/parse.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../timestamp.js'
import { lokiTime, type LokiAnswer } from './loki-query-route.js'

// Loki's label browser API, answered from the shards' streams: label names
// (/labels), a label's values (/label/<name>/values), label sets
// (/series), and how much a selector covers (/index/stats). Stream labels
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

async function streamsOf (raw: Raw, router: ShardRouter, settings: Settings, selector: LabelMatcher[] | null): Promise<string[][]> {
  const now = nowUs()
  const end = lokiTime(raw, 'end', now)
  const start = lokiTime(raw, 'start', end - settings.retention * 1000)
  const { streams, more } = await router.streams(start, end, selector, MAX_STREAMS)
  if (more) throw new BadQueryError(`more than ${MAX_STREAMS} streams match on one shard; narrow the selector or the time range`)
  return streams.map((s) => s.labels)
}

const optionalSelector = (raw: Raw): LabelMatcher[] | null => {
  const q = raw.query
  return typeof q === 'string' && q.trim() !== '' ? selectorOf(q, 'query') : null
}

/** GET /loki/api/v1/labels */
export async function labelNames (raw: Raw, router: ShardRouter, settings: Settings): Promise<LokiAnswer> {
  const names = new Set<string>()
  for (const pairs of await streamsOf(raw, router, settings, optionalSelector(raw))) for (let i = 0; i < pairs.length; i += 2) names.add(pairs[i]!)
  return success([...names].sort())
}

/** GET /loki/api/v1/label/<name>/values */
export async function labelValues (name: string, raw: Raw, router: ShardRouter, settings: Settings): Promise<LokiAnswer> {
  const values = new Set<string>()
  for (const pairs of await streamsOf(raw, router, settings, optionalSelector(raw))) {
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === name) values.add(pairs[i + 1]!)
  }
  return success([...values].sort())
}

/** GET /loki/api/v1/series: the label sets of the streams any match[] selector matches. */
export async function series (raw: Raw, router: ShardRouter, settings: Settings): Promise<LokiAnswer> {
  const given = raw['match[]'] ?? raw.match
  const texts = given === undefined ? [] : (Array.isArray(given) ? given : [given]).map(String)
  const seen = new Map<string, Record<string, string>>()
  for (const selector of texts.length === 0 ? [null] : texts.map((t) => selectorOf(t, 'match[]'))) {
    for (const pairs of await streamsOf(raw, router, settings, selector)) {
      const labels: Record<string, string> = {}
      for (let i = 0; i < pairs.length; i += 2) labels[pairs[i]!] = pairs[i + 1]!
      seen.set(JSON.stringify(pairs), labels)
    }
  }
  return success([...seen.values()])
}

/** GET /loki/api/v1/index/stats: streams, blocks ("chunks"), bytes held and entries under a selector. */
export async function indexStats (raw: Raw, router: ShardRouter, settings: Settings): Promise<LokiAnswer> {
  const q = raw.query
  if (typeof q !== 'string' || q.trim() === '') throw new BadQueryError('query is missing; give a stream selector such as {service="api"}')
  const now = nowUs()
  const end = lokiTime(raw, 'end', now)
  const start = lokiTime(raw, 'start', end - settings.retention * 1000)
  const { streams, more } = await router.streams(start, end, selectorOf(q, 'query'), MAX_STREAMS)
  if (more) throw new BadQueryError(`more than ${MAX_STREAMS} streams match on one shard; narrow the selector or the time range`)
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
