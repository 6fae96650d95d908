import { decodeCursor } from '../shards/cursor.js'
import { BadQueryError } from '../core/errors.js'
import { serviceProblem } from '../ingest/record.js'
import type { AttrMatch } from '../store/shard-messages.js'
import type { LogsRequest } from '../shards/plan.js'
import { EXAMPLE_TIMESTAMP, durationUs, nowUs, parseTimestamp, relativeTime } from '../core/timestamp.js'

// Validates the parameters of GET /logs into a LogsRequest (planned by shards/plan.ts). Pure: the caller
// passes `now` and the window settings, so unit tests need no clock.

export const DEFAULT_LIMIT = 1000
export const MAX_LIMIT = 10_000
const MAX_CONTAINS = 1024

const KNOWN = ['service', 'start', 'end', 'limit', 'order', 'cursor', 'contains', 'regex', 'since', 'attr.<name>']
/** attr.<name>=<value> filters one query may carry. */
const MAX_ATTR_FILTERS = 16
const ATTR_PREFIX = 'attr.'

export interface QueryDefaults {
  /** Epoch µs used when start is absent. */
  start: number
  /** Epoch µs used when end is absent. */
  end: number
}

type Raw = Record<string, unknown>

function single (raw: Raw, name: string): string | undefined {
  const v = raw[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new BadQueryError(`${name} may be given only once`)
  return v
}

function time (raw: Raw, name: string, fallback: number): number {
  const text = single(raw, name)
  if (text === undefined || text === '') return fallback
  let us = parseTimestamp(text)
  if (Number.isNaN(us)) us = relativeTime(text, nowUs())
  if (Number.isNaN(us)) throw new BadQueryError(`${name} ${JSON.stringify(text.slice(0, 64))} is not an ISO 8601 time such as ${EXAMPLE_TIMESTAMP}, nor a time relative to now such as now-15m`)
  return us
}

export function parseLogsQuery (raw: Raw, defaults: QueryDefaults): LogsRequest {
  const attrs: AttrMatch[] = []
  for (const key of Object.keys(raw)) {
    if (key.startsWith(ATTR_PREFIX) && key.length > ATTR_PREFIX.length) {
      const v = raw[key]
      for (const value of Array.isArray(v) ? v : [v]) attrs.push({ key: key.slice(ATTR_PREFIX.length), value: String(value) })
      if (attrs.length > MAX_ATTR_FILTERS) throw new BadQueryError(`at most ${MAX_ATTR_FILTERS} attr.<name> filters may be given`)
      continue
    }
    if (!KNOWN.includes(key)) throw new BadQueryError(`unknown parameter ${JSON.stringify(key.slice(0, 64))}; the parameters are ${KNOWN.join(', ')}`)
  }

  let services: string[] | null = null
  const s = raw.service
  if (s !== undefined) {
    services = (Array.isArray(s) ? s : [s]).map(String)
    if (services.some((name) => name === '')) throw new BadQueryError('service must not be empty; leave it out to query every service')
    for (const name of services) {
      const problem = serviceProblem(name)
      if (problem !== null) throw new BadQueryError(`${problem} (no stored service has such a name)`)
    }
  }

  // since=15m is start=now-15m, as logcli and Grafana users write it; start wins when both are given.
  const since = single(raw, 'since')
  let sinceStart = defaults.start
  if (since !== undefined && since !== '') {
    const us = durationUs(since)
    if (Number.isNaN(us)) throw new BadQueryError(`since ${JSON.stringify(since.slice(0, 64))} is not a duration such as 15m or 1h`)
    sinceStart = nowUs() - us
  }
  const start = time(raw, 'start', sinceStart)
  const end = time(raw, 'end', defaults.end)
  if (end < start) throw new BadQueryError('end is before start; swap them or widen the range')

  let limit = DEFAULT_LIMIT
  const limitText = single(raw, 'limit')
  if (limitText !== undefined) {
    limit = /^\d{1,6}$/.test(limitText) ? Number(limitText) : NaN
    if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new BadQueryError(`limit must be a whole number from 1 to ${MAX_LIMIT}`)
  }

  const order = single(raw, 'order') ?? 'asc'
  if (order !== 'asc' && order !== 'desc') throw new BadQueryError('order must be asc or desc')
  const descending = order === 'desc'

  let after = null
  const cursorText = single(raw, 'cursor')
  if (cursorText !== undefined && cursorText !== '') {
    const cursor = decodeCursor(cursorText)
    if (cursor === null) throw new BadQueryError('cursor is not one this server issued; pass the next value of the previous page unchanged')
    if (cursor.descending !== descending) throw new BadQueryError(`cursor was issued for order=${cursor.descending ? 'desc' : 'asc'}; repeat the same order`)
    after = cursor.after
  }

  let contains = single(raw, 'contains') ?? null
  if (contains === '') contains = null
  if (contains !== null && contains.length > MAX_CONTAINS) throw new BadQueryError(`contains is longer than ${MAX_CONTAINS} characters`)

  let regex = single(raw, 'regex') ?? null
  if (regex === '') regex = null
  // RE2 (linear time), as LogQL's |~ ; compiled by the planner, so a bad pattern is a 400 before any shard runs.
  if (regex !== null && regex.length > MAX_CONTAINS) throw new BadQueryError(`regex is longer than ${MAX_CONTAINS} characters`)
  return { services, start, end, descending, limit, after, contains, attrs, regex }
}

export const DEFAULT_SERVICES_LIMIT = 1000
export const MAX_SERVICES_LIMIT = 10_000

/** GET /services parameters: a page size and the cursor of the previous page. */
export function parseServicesQuery (raw: Raw): { limit: number, after: string | null } {
  for (const key of Object.keys(raw)) {
    if (key !== 'limit' && key !== 'cursor') throw new BadQueryError(`unknown parameter ${JSON.stringify(key.slice(0, 64))}; the parameters are limit, cursor`)
  }
  let limit = DEFAULT_SERVICES_LIMIT
  const limitText = single(raw, 'limit')
  if (limitText !== undefined) {
    limit = /^\d{1,6}$/.test(limitText) ? Number(limitText) : NaN
    if (!(limit >= 1 && limit <= MAX_SERVICES_LIMIT)) throw new BadQueryError(`limit must be a whole number from 1 to ${MAX_SERVICES_LIMIT}`)
  }
  const cursor = single(raw, 'cursor')
  if (cursor === undefined || cursor === '') return { limit, after: null }
  const after = decodeServiceCursor(cursor)
  if (after === null) throw new BadQueryError('cursor is not one this server issued; pass the next value of the previous page unchanged')
  return { limit, after }
}

/** A /services cursor: the last name of the page, as base64url. */
export function encodeServiceCursor (service: string): string {
  return Buffer.from(`s1:${service}`).toString('base64url')
}

function decodeServiceCursor (text: string): string | null {
  if (text.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(text)) return null
  const decoded = Buffer.from(text, 'base64url').toString('utf8')
  return decoded.startsWith('s1:') ? decoded.slice(3) : null
}
