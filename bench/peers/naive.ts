import { createServer } from 'node:http'
import express, { type NextFunction, type Request, type Response } from 'express'
import { formatTimestamp, parseTimestamp } from '../../src/core/timestamp.js'
import { listen } from './listen.js'

// The "naive" peer: the original Django service's design, ported as it is to
// one Express thread. A dict of service → list kept sorted by timestamp with
// bisect.insort (binary search, then an insert that shifts the list's tail:
// splice here); a GET slices each requested service's list by binary search,
// concatenates the slices and, when more than one service is involved, sorts
// the whole result on every read. Same API as logagg (POST one object, a JSON
// array or NDJSON; GET /logs with service(s), start, end, limit, order), no
// cursor: "next" is always null. ETag is off, as in logagg and Django.

interface Row {
  ts: number
  service: string
  message: string
}

const RETENTION_US = 3600e6
const FUTURE_SKEW_US = 600e6
const MAX_BODY = '16mb'
const logs = new Map<string, Row[]>()

/** First index with list[i].ts > ts (bisect_right). */
function bisectRight (list: Row[], ts: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]!.ts <= ts) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index with list[i].ts >= ts (bisect_left). */
function bisectLeft (list: Row[], ts: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]!.ts < ts) lo = mid + 1
    else hi = mid
  }
  return lo
}

function insort (row: Row): void {
  let list = logs.get(row.service)
  if (list === undefined) logs.set(row.service, (list = []))
  list.splice(bisectRight(list, row.ts), 0, row)
}

function validate (value: unknown, now: number): Row | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'entry must be an object'
  const { service, timestamp, message } = value as Record<string, unknown>
  if (typeof service !== 'string' || service === '') return 'service must be a non-empty string'
  if (typeof message !== 'string') return 'message must be a string'
  const ts = typeof timestamp === 'string' ? parseTimestamp(timestamp) : NaN
  if (Number.isNaN(ts)) return 'timestamp must be ISO 8601'
  if (ts < now - RETENTION_US || ts > now + FUTURE_SKEW_US) return 'timestamp is outside the accepted window'
  return { ts, service, message }
}

function fail (res: Response, status: number, error: string): void {
  res.status(status).json({ error })
}

const app = express()
app.disable('x-powered-by')
app.set('etag', false)

app.post('/logs', express.json({ limit: MAX_BODY }), express.text({ type: 'application/x-ndjson', limit: MAX_BODY }), (req: Request, res: Response) => {
  const body: unknown = req.body
  let items: unknown[]
  let single = false
  try {
    if (typeof body === 'string') items = body.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown)
    else if (Array.isArray(body)) items = body
    else if (typeof body === 'object' && body !== null) {
      items = [body]
      single = true
    } else throw new Error('send a JSON object, an array or NDJSON')
  } catch (err) {
    fail(res, 400, (err as Error).message)
    return
  }
  const now = Date.now() * 1000
  const rows: Row[] = []
  for (const item of items) {
    const row = validate(item, now)
    if (typeof row === 'string') return fail(res, 400, row)
    rows.push(row)
  }
  for (const row of rows) insort(row)
  if (single) res.status(201).json({ status: 'Log entry stored' })
  else res.status(201).json({ stored: rows.length })
})

app.get('/logs', (req: Request, res: Response) => {
  const q = req.query as Record<string, string | string[] | undefined>
  const services = q.service === undefined ? [...logs.keys()] : ([] as string[]).concat(q.service)
  const start = q.start === undefined ? -Infinity : parseTimestamp(String(q.start))
  const end = q.end === undefined ? Infinity : parseTimestamp(String(q.end))
  const limit = q.limit === undefined ? 1000 : Number(q.limit)
  const order = q.order ?? 'asc'
  if (Number.isNaN(start) || Number.isNaN(end)) return fail(res, 400, 'start and end must be ISO 8601')
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return fail(res, 400, 'limit must be 1 to 10000')
  if (order !== 'asc' && order !== 'desc') return fail(res, 400, 'order must be asc or desc')

  let rows: Row[] = []
  for (const service of services) {
    const list = logs.get(service)
    if (list !== undefined) rows = rows.concat(list.slice(bisectLeft(list, start), bisectRight(list, end)))
  }
  if (services.length > 1) rows.sort((a, b) => a.ts - b.ts)
  if (order === 'desc') rows.reverse()
  rows = rows.slice(0, limit)
  res.json({ logs: rows.map((r) => ({ service: r.service, timestamp: formatTimestamp(r.ts), message: r.message })), next: null })
})

app.get('/services', (_req: Request, res: Response) => {
  const services = [...logs].map(([service, list]) => ({ service, count: list.length }))
  res.json({ services })
})

app.get('/healthz', (_req: Request, res: Response) => {
  res.json({ status: 'ok' })
})

app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
  fail(res, err.status ?? 500, err.message)
})

listen(createServer(app), 'naive-peer')
