import { streamMembers } from '../shards/loki-streams-page.js'
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { WebSocketServer, type WebSocket } from 'ws'
import { BadQueryError, TooManyTailsError } from '../core/errors.js'
import type { LogSelection } from '../logql/ast.js'
import { compileSelection } from '../logql/match.js'
import { parseLogql } from '../logql/parse.js'
import { decodeCursor, encodeCursor } from '../shards/cursor.js'
import { logsSelection } from '../shards/plan.js'
import { parseLogsQuery } from './query-params.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import type { TailDelivery } from '../shards/tail-manager.js'
import { formatTimestamp, nowUs } from '../core/timestamp.js'
import { describeError, type HttpError } from './answer.js'
import { lokiTime } from './loki-query-route.js'
import type { HttpPolicy } from './policy.js'
import { runTail, type TailSink } from './tail-run.js'

// Live tails: GET /logs/tail (Server-Sent Events in the native entry shape, or
// NDJSON or text lines) and Loki's WebSocket at /loki/api/v1/tail: each
// protocol's parameters, framing and refusals around one runTail
// (tail-run.ts), which replays, goes live and keeps every buffer bounded.

/** Stored entries a replay sends at most before going live. */
const MAX_REPLAY = 100_000
const HEARTBEAT_MS = 15_000

/** GET /logs/tail's parameters (GET /logs's filters) as a LogQL selection. */
function nativeSelection (raw: Record<string, unknown>, settings: Settings): { select: LogSelection, start: number, replay: boolean } {
  const { start: _s, limit: _l, order: _o, cursor: _c, ...filters } = raw
  const now = nowUs()
  // Without start or since, the tail begins now (no replay).
  const from = raw.start !== undefined || raw.since !== undefined
  const q = parseLogsQuery(from ? { ...filters, ...(raw.start === undefined ? {} : { start: raw.start }) } : { ...filters, start: formatTimestamp(now) }, { start: now, end: now + settings.futureSkew * 1000 })
  return { select: logsSelection(q), start: from ? q.start : now, replay: from }
}

const cursorOf = (ts: number, seq: number): string => encodeCursor({ after: { ts, seq }, descending: false })

/** How GET /logs/tail writes its entries: SSE events, or plain NDJSON / text lines. */
export type TailLayout = 'sse' | 'ndjson' | 'text'

const TAIL_TYPES: Record<TailLayout, string> = {
  sse: 'text/event-stream; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  text: 'text/plain; charset=utf-8'
}

/** The layout a GET /logs/tail asks for: `format=`, else the first of SSE, NDJSON or text its Accept header names, else SSE. */
export function tailLayout (format: unknown, accept: string | undefined): TailLayout {
  if (format !== undefined) {
    if (format === 'sse' || format === 'ndjson' || format === 'text') return format
    throw new BadQueryError('format must be sse, ndjson or text for a tail (or leave it out for Server-Sent Events)')
  }
  for (const type of (accept ?? '').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase())) {
    if (type === 'text/event-stream') return 'sse'
    if (type === 'application/x-ndjson' || type === 'application/jsonl') return 'ndjson'
    if (type === 'text/plain') return 'text'
  }
  return 'sse'
}

/** What a tail in each layout writes when entries were dropped, and to keep idle proxies from closing it. */
const NOTICES: Record<TailLayout, { dropped: (count: number) => string, keepAlive: string }> = {
  sse: {
    dropped: (count) => `event: dropped\ndata: ${JSON.stringify({ dropped: count, message: droppedMessage(count) })}\n\n`,
    keepAlive: ': keep-alive\n\n'
  },
  ndjson: { dropped: (count) => `${JSON.stringify({ dropped: count, message: droppedMessage(count) })}\n`, keepAlive: '\n' },
  text: { dropped: (count) => `# ${droppedMessage(count)}\n`, keepAlive: '\n' }
}

const droppedMessage = (count: number): string => `${count} entries were dropped because this client did not keep up`

const NEWLINE = Buffer.from('\n')

/**
 * GET /logs/tail. By default (or `format=sse`, or Accept: text/event-stream)
 * Server-Sent Events, one entry per `data:` event with an `id:` that works
 * as a cursor; with `format=ndjson` / `format=text` (or an Accept of
 * application/x-ndjson / text/plain) one plain line per entry, as
 * GET /logs writes them, for curl -N and scripts. `start` (or
 * Last-Event-ID) replays from there.
 */
export async function logsTail (req: IncomingMessage, res: ServerResponse, raw: Record<string, unknown>, router: ShardRouter, settings: Settings, tenant: string): Promise<void> {
  const { format, ...params } = raw
  const layout = tailLayout(format, req.headers.accept)
  const { select, start, replay: replays } = nativeSelection(params, settings)
  const lastId = req.headers['last-event-id']
  let after: { ts: number, seq: number } | null = null
  if (typeof lastId === 'string' && lastId !== '') {
    const c = decodeCursor(lastId)
    if (c === null) throw new BadQueryError('Last-Event-ID is not an id this server sent; reconnect without it, or with start')
    after = c.after
  }
  // The headers go out once the tail is registered (with the replay's first events, or after it):
  // a client that has its 200 knows that nothing stored from then on will be missed.
  res.statusCode = 200
  res.setHeader('content-type', TAIL_TYPES[layout])
  res.setHeader('cache-control', 'no-cache')
  res.setHeader('x-accel-buffering', 'no')
  const write = (text: string): void => { res.write(text) }
  const notices = NOTICES[layout]
  let closed = false
  let stop: (() => void) | null = null
  // Listened for before the replay: a client that leaves during it frees its MAX_TAILS slot too.
  res.once('close', () => {
    closed = true
    stop?.()
  })
  const sink: TailSink = {
    replay: layout === 'sse'
      ? (entries) => {
          for (const e of entries) write(`id: ${cursorOf(e.ts, e.seq)}\ndata: ${Buffer.from(e.body).toString('utf8')}\n\n`)
        }
      // The replay query renders lines without their newline (GET /logs joins them).
      : (entries) => { res.write(Buffer.concat(entries.flatMap((e) => [e.body, NEWLINE]))) },
    // The shards rendered each whole already (an event, or a line with its newline): one write for them all.
    live: (entries) => { res.write(Buffer.concat(entries.map((e) => e.body))) },
    dropped: (count) => write(notices.dropped(count)),
    backlog: () => res.writableLength,
    onDrain: (fn) => res.on('drain', fn),
    drained: async () => {
      if (closed || !res.writableNeedDrain) return
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done)
          res.off('close', done)
          resolve()
        }
        res.on('drain', done)
        res.on('close', done)
      })
    }
  }
  // A tail that starts now has nothing to replay: it runs no query (so opening many at once
  // never meets QUERY_CONCURRENCY); what is stored once it is registered comes live.
  const replay = { limit: replays || after !== null ? MAX_REPLAY : 0, format: layout === 'sse' ? 'native' as const : layout }
  stop = await runTail(router, select, tenant, { start: after === null ? start : after.ts, after }, replay, layout, sink, settings)
  if (closed) {
    stop()
    return
  }
  if (!res.headersSent) res.flushHeaders()
  // Only an idle stream needs keeping alive (and a stalled one is not sent more).
  const heartbeat = setInterval(() => { if (res.writableLength === 0) write(notices.keepAlive) }, HEARTBEAT_MS)
  res.once('close', () => clearInterval(heartbeat))
}

/** A Loki tail message naming the entries dropped for a slow reader. */
function lokiDroppedMessage (dropped: TailDelivery['droppedNamed']): string {
  const droppedEntries = dropped.map((d) => {
    const labels: Record<string, string> = {}
    for (let i = 0; i < d.labels.length; i += 2) labels[d.labels[i]!] = d.labels[i + 1]!
    return { labels, timestamp: `${d.ts}000` }
  })
  return JSON.stringify({ streams: [], dropped_entries: droppedEntries })
}

/**
 * A browser's WebSocket cannot send an Authorization header, so the
 * explorer offers its token as a subprotocol (Kubernetes' idea):
 * `Sec-WebSocket-Protocol: logagg.v1, logagg.bearer.<token in base64url>`.
 * The server answers `logagg.v1`, never the token; a client that sends
 * Authorization (Grafana, logcli) is not affected.
 */
export const TAIL_PROTOCOL = 'logagg.v1'
const BEARER_PROTOCOL = 'logagg.bearer.'

/** The request's Authorization header, or `Bearer <token>` from a logagg.bearer.* subprotocol. */
export function tailAuthorization (headers: IncomingMessage['headers']): string | undefined {
  if (headers.authorization !== undefined) return headers.authorization
  const offered = String(headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
  const bearer = offered.find((p) => p.startsWith(BEARER_PROTOCOL))
  return bearer === undefined ? undefined : `Bearer ${Buffer.from(bearer.slice(BEARER_PROTOCOL.length), 'base64url').toString('utf8')}`
}

/** Serves Loki's tail WebSocket at /loki/api/v1/tail on `server`'s upgrade requests. */
export function lokiTailSockets (router: ShardRouter, settings: Settings, policy: HttpPolicy, log: Logger): { upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void, close: () => void } {
  // Of the subprotocols offered, only logagg.v1 is ever chosen (never a token); none offered, none answered.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, handleProtocols: (offered) => offered.has(TAIL_PROTOCOL) ? TAIL_PROTOCOL : false })
  const refuse = (socket: Duplex, err: unknown): void => {
    const e = describeError(err as HttpError, settings.maxBody, log, { method: 'GET', url: '/loki/api/v1/tail' })
    const body = JSON.stringify({ status: 'error', error: e.message })
    socket.end(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  }
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== '/loki/api/v1/tail') {
      refuse(socket, Object.assign(new BadQueryError(`no WebSocket at ${url.pathname}; the tail is at /loki/api/v1/tail`), { statusCode: 404 }))
      return
    }
    let select: LogSelection
    let start: number
    let limit: number
    let tenant: string
    try {
      policy.checkSource?.(req.headers)
      tenant = policy.tenants.one(req.headers, policy.checkQuery?.(tailAuthorization(req.headers)))
      const raw = Object.fromEntries(url.searchParams)
      const query = parseLogql(raw.query ?? '')
      if (query.kind !== 'log') throw new BadQueryError('a tail takes a log query such as {service="api"} |= "error", not a metric query')
      compileSelection(query.selection)
      select = query.selection
      start = lokiTime(raw, 'start', nowUs() - 3_600_000_000)
      limit = raw.limit === undefined ? 100 : Number(raw.limit)
      if (!Number.isInteger(limit) || limit < 0 || limit > 5000) throw new BadQueryError('limit must be a whole number from 0 to 5000')
    } catch (err) {
      refuse(socket, err)
      return
    }
    // The tail is registered (and its replay read) before the handshake completes, so a
    // client that sees the connection open misses nothing stored from then on.
    let ws: WebSocket | null = null
    let closed = false
    let stop: (() => void) | null = null
    const early: string[] = []
    let earlyBytes = 0
    const send = (text: string): void => {
      if (ws === null) {
        early.push(text)
        earlyBytes += text.length
      } else if (ws.readyState === ws.OPEN) ws.send(text)
    }
    const end = (): void => {
      closed = true
      stop?.()
    }
    socket.once('close', () => { if (ws === null) end() })
    const sink: TailSink = {
      // The shards rendered the replayed entries as Loki stream members already (format 'loki-streams'): grouped, not parsed.
      replay: (entries) => send(`{"streams":[${Buffer.concat(streamMembers(entries)).toString('utf8')}],"dropped_entries":[]}`),
      // Each is a stream of one value, rendered by its shard: joined, they are the streams array.
      live: (entries) => send(`{"streams":[${entries.map((e) => Buffer.from(e.body).toString('utf8')).join(',')}],"dropped_entries":[]}`),
      dropped: (_count, named) => send(lokiDroppedMessage(named)),
      backlog: () => ws === null ? earlyBytes : ws.bufferedAmount,
      onDrain: (fn) => socket.on('drain', fn)
    }
    runTail(router, select, tenant, { start, after: null }, { limit, format: 'loki-streams' }, 'loki', sink, settings).then((s) => {
      stop = s
      if (closed) {
        s()
        return
      }
      wss.handleUpgrade(req, socket, head, (opened: WebSocket) => {
        ws = opened
        opened.on('close', end)
        opened.on('error', () => opened.terminate())
        for (const text of early.splice(0)) opened.send(text)
      })
    }, (err: unknown) => {
      if (!(err instanceof TooManyTailsError)) log.warn({ err }, 'tail replay failed')
      refuse(socket, err)
    })
  }
  return { upgrade, close: () => { for (const ws of wss.clients) ws.terminate(); wss.close() } }
}
