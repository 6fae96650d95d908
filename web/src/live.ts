import { bearerToken, type LokiStream } from './api.js'
import { rowsOf, type Row } from './rows.js'
import { toNs } from './time.js'

// Live: Loki's tail WebSocket (/loki/api/v1/tail, the query as LogQL). Lines
// that arrive wait in a queue and join the list once per animation frame, at
// most FRAME_ROWS a frame; while paused they only queue. A queue past
// MAX_QUEUE drops its oldest lines, and the server's own drops
// (dropped_entries: it could not send to this page fast enough) count too.

const FRAME_ROWS = 2000

const base64url = (text: string): string => btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const MAX_QUEUE = 20_000

export interface LiveEvents {
  rows: (rows: Row[]) => void
  dropped: (total: number) => void
  status: (text: string, failed: boolean) => void
}

export class Live {
  private ws: WebSocket | null = null
  private queue: Row[] = []
  private paused = false
  private droppedTotal = 0
  private frame = 0

  constructor (private readonly events: LiveEvents) {}

  get running (): boolean { return this.ws !== null }
  get dropped (): number { return this.droppedTotal }

  start (query: string, fromMs: number): void {
    this.stop()
    this.droppedTotal = 0
    this.events.dropped(0)
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    const params = new URLSearchParams({ query, start: toNs(fromMs), limit: '100' })
    // A browser's WebSocket sends no Authorization header: the token, if any, travels as a subprotocol.
    const token = bearerToken()
    const protocols = token === null ? [] : ['logagg.v1', `logagg.bearer.${base64url(token)}`]
    const ws = new WebSocket(`${scheme}://${location.host}/loki/api/v1/tail?${params.toString()}`, protocols)
    this.ws = ws
    ws.addEventListener('open', () => this.events.status('live', false))
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data)) as { streams?: LokiStream[], dropped_entries?: unknown[] | null }
      if (msg.dropped_entries != null && msg.dropped_entries.length > 0) this.drop(msg.dropped_entries.length)
      if (msg.streams !== undefined) this.take(rowsOf(msg.streams))
    })
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return
      this.ws = null
      this.events.status(e.code === 1000 ? 'live tail ended' : `live tail closed: ${e.reason === '' ? `code ${e.code} (the server refused the tail, or it went away)` : e.reason}`, e.code !== 1000)
    })
  }

  stop (): void {
    const ws = this.ws
    this.ws = null
    ws?.close(1000)
    this.queue = []
    cancelAnimationFrame(this.frame)
    this.frame = 0
  }

  setPaused (paused: boolean): void {
    this.paused = paused
    if (!paused) this.flushSoon()
  }

  private drop (n: number): void {
    this.droppedTotal += n
    this.events.dropped(this.droppedTotal)
  }

  private take (rows: Row[]): void {
    this.queue.push(...rows)
    if (this.queue.length > MAX_QUEUE) this.drop(this.queue.splice(0, this.queue.length - MAX_QUEUE).length)
    this.flushSoon()
  }

  private flushSoon (): void {
    if (this.paused || this.frame !== 0) return
    this.frame = requestAnimationFrame(() => {
      this.frame = 0
      if (this.paused) return
      const batch = this.queue.splice(0, FRAME_ROWS)
      if (batch.length > 0) this.events.rows(batch)
      if (this.queue.length > 0) this.flushSoon()
    })
  }
}
