import { ApiError, getJson, type LokiData, type LokiMatrix, type Volume } from './api.js'
import { NO_SUGGESTIONS, QueryBar, remember, type Suggestions } from './complete.js'
import { download } from './download.js'
import { Fields, NO_FIELDS, type FieldsState } from './fields.js'
import { Histogram } from './histogram.js'
import { LogList } from './list.js'
import { Live } from './live.js'
import { Pager } from './pager.js'
import { highlighter, isMetric, lineMatches, replaceSelector, withLabelFilter } from './query-text.js'
import type { Row } from './rows.js'
import { Store } from './store.js'
import { rfc3339, resolveTime, toNs } from './time.js'
import { hideDetail, showDetail } from './ui/detail.js'

// The explorer's controller: the state lives in the URL (q, from, to, live=1;
// `at` names a linked line), every run reads it from the controls, writes it
// back and asks the server for the rows (Loki query_range), the volume
// (GET /logs/volume) and the fields (labels, detected_fields, topk counts).
// What the components show is in `store` (ui/app.tsx draws it); the parts
// that work their own elements (the query's textarea, the virtual list, the
// uPlot histogram) get them from the App once it is mounted.

/** Rows of the first page (fast first paint), then of each next page; at most MAX_ROWS in the list. */
const FIRST_PAGE = 1000
const PAGE = 5000
const MAX_ROWS = 100_000
const DEFAULT_QUERY = '{service=~".+"}'

export const PRESETS: ReadonlyArray<readonly [string, string]> = [
  ['now-5m', 'Last 5 minutes'], ['now-15m', 'Last 15 minutes'], ['now-1h', 'Last 1 hour'],
  ['now-6h', 'Last 6 hours'], ['now-24h', 'Last 24 hours'], ['now-7d', 'Last 7 days']
]

export interface ViewState {
  /** The server's message, and the query with a caret under where it says the problem is. */
  error: { message: string, where: string | null } | null
  status: string
  dropped: number
  /** The range's controls: a preset (or 'custom'), from and to as typed. */
  preset: string
  from: string
  to: string
  utc: boolean
  desc: boolean
  wrap: boolean
  live: boolean
  paused: boolean
  fieldsOpen: boolean
  services: string[]
  fields: FieldsState
  suggest: Suggestions
}

/** The elements the controller's self-drawing parts live in. */
export interface Mounts { q: HTMLTextAreaElement, list: HTMLElement, histogram: HTMLElement, from: HTMLInputElement }

/** Marks the first time the page reaches a state (navigation to first rows, to histogram), for the browser tests and DevTools. */
function mark (name: string): void {
  if (performance.getEntriesByName(name).length === 0) performance.mark(name)
}

export class Explorer {
  readonly store = new Store<ViewState>({
    error: null,
    status: '',
    dropped: 0,
    preset: 'now-1h',
    from: 'now-1h',
    to: 'now',
    utc: false,
    desc: true,
    wrap: false,
    live: false,
    paused: false,
    fieldsOpen: !matchMedia('(max-width: 800px)').matches,
    services: [],
    fields: NO_FIELDS,
    suggest: NO_SUGGESTIONS
  })

  private controller = new AbortController()
  private readonly pager = new Pager(() => this.view.desc)
  private loadingMore = false
  private current = { query: '', fromMs: 0, toMs: 0 }
  /** The line a copied link names (`at`), selected once its rows are in. */
  private pendingAt: string | null = null
  private readonly fields = new Fields((fields) => this.store.set({ fields }))
  private readonly live: Live
  private bar!: QueryBar
  private list!: LogList
  private histogram!: Histogram
  private detailEl!: HTMLElement
  private fromInput!: HTMLInputElement

  constructor () {
    this.live = new Live({
      rows: (rows) => {
        this.list.add(rows, true)
        const over = this.list.trim(MAX_ROWS)
        if (over > 0) this.store.set({ dropped: this.live.dropped })
        this.status(`${this.list.size.toLocaleString('en')} lines (live)`)
      },
      dropped: (n) => this.store.set({ dropped: n }),
      status: (text, failed) => failed ? this.showError(text, '') : this.status(text)
    })
  }

  private get view (): ViewState { return this.store.get() }

  /** Builds the self-drawing parts in their elements, reads the URL and runs it. */
  start (m: Mounts): void {
    this.fromInput = m.from
    this.bar = new QueryBar(m.q, (suggest) => this.store.set({ suggest }), () => { this.run(true) })
    this.bar.range = () => ({ start: toNs(this.current.fromMs || Date.now() - 3_600_000), end: toNs(this.current.toMs || Date.now()) })
    this.list = new LogList(m.list, { open: (row) => this.showRow(row), nearEnd: () => { this.more() } })
    // An opened line's details; the list moves this element under that line.
    this.detailEl = Object.assign(document.createElement('div'), { id: 'detail', hidden: true, tabIndex: -1 })
    this.detailEl.setAttribute('role', 'region')
    this.detailEl.setAttribute('aria-label', 'Line details')
    this.detailEl.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.closeRow() })
    this.list.attachDetail(this.detailEl)
    this.histogram = new Histogram(m.histogram, (fromMs, toMs) => {
      this.setRange(rfc3339(fromMs), rfc3339(toMs))
      this.run(true)
    })
    window.addEventListener('popstate', () => {
      this.readUrl()
      this.run(false)
    })
    this.readUrl()
    this.run(false)
    this.loadServices()
  }

  private status (text: string): void {
    this.store.set({ status: text })
  }

  private showError (message: string, query: string): void {
    const at = /at character (\d+)/.exec(message)
    const near = /\(at "([^"]*)/.exec(message)
    let pos = at !== null ? Number(at[1]) - 1 : near !== null ? query.indexOf(near[1]!) : -1
    if (pos >= query.length) pos = query.length - 1
    const placed = pos >= 0 && query !== ''
    if (placed) this.bar.input.setSelectionRange(pos, pos)
    this.store.set({ error: { message, where: placed ? `${query}\n${' '.repeat(pos)}^` : null } })
  }

  private showRow (row: Row): void {
    showDetail(this.detailEl, row, {
      filter: (name, value, op, parser) => this.narrow(name, value, op, parser),
      link: (r) => this.lineLink(r),
      close: () => this.closeRow()
    }, this.view.utc)
  }

  private closeRow (): void {
    hideDetail(this.detailEl)
    this.list.collapse()
    this.list.el.focus()
  }

  /** Sets from and to, and the preset shown (a preset only when `to` is now). */
  setRange (from: string, to: string): void {
    const preset = to === 'now' && PRESETS.some(([v]) => v === from) ? from : 'custom'
    this.store.set({ from, to, preset })
  }

  private readUrl (): void {
    const p = new URLSearchParams(location.search)
    this.bar.value = p.get('q') ?? DEFAULT_QUERY
    this.setRange(p.get('from') ?? 'now-1h', p.get('to') ?? 'now')
    this.store.set({ live: p.get('live') === '1' })
    this.pendingAt = p.get('at')
  }

  private writeUrl (push: boolean): void {
    const p = new URLSearchParams()
    p.set('q', this.bar.value)
    p.set('from', this.view.from)
    p.set('to', this.view.to)
    if (this.view.live) p.set('live', '1')
    if (this.pendingAt !== null) p.set('at', this.pendingAt)
    const url = `/?${p.toString()}`
    if (url === `${location.pathname}${location.search}`) return
    if (push) history.pushState(null, '', url)
    else history.replaceState(null, '', url)
  }

  /** A link that opens this line: its query, a range around it, and `at`. */
  private lineLink (row: Row): string {
    const p = new URLSearchParams({ q: this.current.query, from: rfc3339(row.ms - 60_000), to: rfc3339(row.ms + 60_000), at: row.ns })
    return `${location.origin}/?${p.toString()}`
  }

  narrow (name: string, value: string, op: '=' | '!=', parser: string | null): void {
    if (isMetric(this.bar.value)) return
    this.bar.value = withLabelFilter(this.bar.value, name, value, op, parser)
    this.run(true)
  }

  /** Runs what the controls say: rows, volume and fields of a log query, the chart of a metric one, or the live tail. */
  async run (push: boolean): Promise<void> {
    this.controller.abort()
    this.controller = new AbortController()
    const signal = this.controller.signal
    this.live.stop()
    this.store.set({ error: null })
    hideDetail(this.detailEl)
    this.list.collapse()
    const query = this.bar.value.trim()
    const now = Date.now()
    const fromMs = resolveTime(this.view.from, now)
    const toMs = resolveTime(this.view.to, now)
    this.writeUrl(push)
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) {
      this.showError('from and to must be relative to now (now-15m, now) or RFC 3339 times such as 2026-12-04T18:00:00Z', '')
      return
    }
    if (fromMs >= toMs) {
      this.showError('from must be before to', '')
      return
    }
    if (push) remember(query)
    this.current = { query, fromMs, toMs }
    this.bar.refresh()
    this.list.setHighlight(highlighter(lineMatches(query)))
    if (this.view.live) {
      this.list.set([])
      this.histogram.clear()
      this.fields.clear()
      this.status('connecting…')
      try {
        // Asks for a token first if the server wants one (the WebSocket alone could only fail).
        await getJson('/loki/api/v1/status/buildinfo', {}, {}, signal)
      } catch (err) {
        if (!signal.aborted) this.showError((err as Error).message, query)
        return
      }
      if (signal.aborted) return
      this.live.start(query, fromMs)
      return
    }
    this.status('loading…')
    this.list.set([])
    this.pager.reset()
    const startNs = toNs(fromMs)
    const endNs = toNs(toMs)
    const failed = (err: unknown): void => {
      if (signal.aborted) return
      this.showError(err instanceof ApiError ? err.message : String(err), query)
      this.status('')
    }
    if (isMetric(query)) {
      this.fields.clear()
      try {
        const answer = await getJson<LokiData<LokiMatrix>>('/loki/api/v1/query_range', { query, start: startNs, end: endNs }, {}, signal)
        this.histogram.showMatrix(answer.data.result, fromMs, toMs)
        this.status(`${answer.data.result.length} series`)
      } catch (err) { failed(err) }
      return
    }
    const rows = this.pager.page(query, startNs, endNs, FIRST_PAGE, signal).then((page) => {
      this.list.set(page)
      mark('logagg:first-rows')
      this.status(`${page.length.toLocaleString('en')} lines${this.pager.nextAt === null ? '' : ' (scroll for more)'}`)
      if (this.pendingAt !== null) this.list.selectNs(this.pendingAt)
      this.pendingAt = null
    })
    const volume = getJson<Volume>('/logs/volume', { query, start: startNs, end: endNs }, {}, signal).then((v) => {
      this.histogram.show(v)
      mark('logagg:histogram')
    })
    const seconds = Math.max(1, Math.ceil((toMs - fromMs) / 1000))
    // The sidebar's counts scan the same entries as the histogram: they start once it is drawn, so
    // the first rows and the histogram do not wait behind six more scans on the shards.
    const sidebar = volume.catch(() => {}).then(async () => { if (!signal.aborted) await this.fields.load(query, { startNs, endNs, seconds }, signal) })
    const results = await Promise.allSettled([rows, volume, sidebar])
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (refused !== undefined) failed(refused.reason)
  }

  private async more (): Promise<void> {
    if (this.loadingMore || this.pager.nextAt === null || this.view.live || this.list.size >= MAX_ROWS) return
    this.loadingMore = true
    const signal = this.controller.signal
    const { query, fromMs, toMs } = this.current
    try {
      // A page can hold only lines shown already (one microsecond's worth): then the next one, at most a few.
      for (let tries = 0; tries < 4 && this.pager.nextAt !== null; tries++) {
        const from = this.view.desc ? toNs(fromMs) : this.pager.nextAt
        const to = this.view.desc ? this.pager.nextAt : toNs(toMs)
        const page = await this.pager.page(query, from, to, Math.min(PAGE, MAX_ROWS - this.list.size), signal)
        if (signal.aborted) return
        this.list.add(page, !this.view.desc)
        if (page.length > 0) break
      }
      this.status(`${this.list.size.toLocaleString('en')} lines${this.pager.nextAt === null || this.list.size >= MAX_ROWS ? '' : ' (scroll for more)'}`)
    } catch (err) {
      if (!signal.aborted) this.showError((err as Error).message, query)
    } finally {
      this.loadingMore = false
    }
  }

  private async loadServices (): Promise<void> {
    try {
      const { data } = await getJson<{ data: string[] }>('/loki/api/v1/label/service/values', { since: '7d' })
      this.store.set({ services: data })
    } catch {}
  }

  // What the controls do (ui/app.tsx calls these).

  pickPreset (value: string): void {
    if (value === 'custom') {
      const now = Date.now()
      this.store.set({
        preset: 'custom',
        from: rfc3339(resolveTime(this.view.from, now) || now - 3_600_000),
        to: rfc3339(resolveTime(this.view.to, now) || now)
      })
      this.fromInput.focus()
      return
    }
    this.setRange(value, 'now')
    this.run(true)
  }

  pickService (service: string): void {
    if (service === '') return
    this.bar.value = replaceSelector(this.bar.value, `{service=${JSON.stringify(service)}}`)
    this.run(true)
  }

  toggleUtc (): void {
    const utc = !this.view.utc
    this.store.set({ utc })
    this.list.setUtc(utc)
    this.histogram.setUtc(utc)
  }

  toggleOrder (): void {
    const desc = !this.view.desc
    this.store.set({ desc })
    this.list.setOrder(desc)
    if (!this.view.live) this.run(false)
  }

  setWrap (wrap: boolean): void {
    this.store.set({ wrap })
    this.list.setWrap(wrap)
  }

  toggleLive (): void {
    this.store.set({ live: !this.view.live, paused: false })
    this.live.setPaused(false)
    this.run(true)
  }

  togglePause (): void {
    const paused = !this.view.paused
    this.store.set({ paused })
    this.live.setPaused(paused)
  }

  zoomOut (): void {
    const now = Date.now()
    const from = resolveTime(this.view.from, now)
    const to = resolveTime(this.view.to, now)
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to) return
    const half = to - from
    this.setRange(rfc3339(from - half / 2), rfc3339(Math.min(now, to + half / 2)))
    this.run(true)
  }

  toggleFields (): void {
    this.store.set({ fieldsOpen: !this.view.fieldsOpen })
  }

  pickSuggestion (i: number): void {
    this.bar.accept(i)
  }

  fieldOpened (i: number): void {
    this.fields.opened(i)
  }

  download (format: 'ndjson' | 'csv'): void {
    download(this.list.all, format)
  }
}
