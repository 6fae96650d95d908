import 'uplot/dist/uPlot.min.css'
import '../style.css'
import { ApiError, getJson, onTokenNeeded, type LokiData, type LokiMatrix, type Volume } from './api.js'
import { QueryBar, remember } from './complete.js'
import { Detail } from './detail.js'
import { byId, h } from './dom.js'
import { download } from './download.js'
import { Fields } from './fields.js'
import { Histogram } from './histogram.js'
import { LogList } from './list.js'
import { Pager } from './pager.js'
import { askToken } from './token-dialog.js'
import { Live } from './live.js'
import { highlighter, isMetric, lineMatches, replaceSelector, withLabelFilter } from './query-text.js'
import type { Row } from './rows.js'
import { rfc3339, resolveTime, toNs } from './time.js'

// The explorer: the state lives in the URL (q, from, to, live=1; `at` names
// a linked line), every run reads it from the controls, writes it back and
// asks the server for the rows (Loki query_range), the volume
// (GET /logs/volume) and the fields (labels, detected_fields, topk counts).

/** Rows of the first page (fast first paint), then of each next page; at most MAX_ROWS in the list. */
const FIRST_PAGE = 1000
const PAGE = 5000
const MAX_ROWS = 100_000
const DEFAULT_QUERY = '{service=~".+"}'

const el = {
  q: byId<HTMLTextAreaElement>('q'),
  suggest: byId<HTMLUListElement>('suggest'),
  service: byId<HTMLSelectElement>('service'),
  range: byId<HTMLSelectElement>('range'),
  from: byId<HTMLInputElement>('from'),
  to: byId<HTMLInputElement>('to'),
  tz: byId<HTMLButtonElement>('tz'),
  run: byId<HTMLButtonElement>('run'),
  live: byId<HTMLButtonElement>('live'),
  pause: byId<HTMLButtonElement>('pause'),
  error: byId('error'),
  errorText: byId('error-text'),
  errorWhere: byId('error-where'),
  status: byId('status'),
  dropped: byId('dropped'),
  order: byId<HTMLButtonElement>('order'),
  wrap: byId<HTMLInputElement>('wrap'),
  fieldsToggle: byId<HTMLButtonElement>('fields-toggle'),
  fields: byId('fields')
}

const state = { desc: true, utc: false, live: false, paused: false }
let controller = new AbortController()
const pager = new Pager(() => state.desc)
let loadingMore = false
let current = { query: '', fromMs: 0, toMs: 0 }
/** The line a copied link names (`at`), selected once its rows are in. */
let pendingAt: string | null = null

const bar = new QueryBar(el.q, el.suggest, () => { run(true) })
const list = new LogList(byId('list'), { open: (row) => detail.show(row), nearEnd: () => { more() } })
const detail = new Detail(byId('detail'), {
  filter: (name, value, op, parser) => narrow(name, value, op, parser),
  link: (row) => lineLink(row),
  close: () => {
    detail.hide()
    list.collapse()
    list.el.focus()
  }
}, () => state.utc)
list.attachDetail(byId('detail'))
const histogram = new Histogram(byId('histogram'), (fromMs, toMs) => {
  setRange(rfc3339(fromMs), rfc3339(toMs))
  run(true)
})
const fields = new Fields(byId('field-list'), (name, value, op, parser) => narrow(name, value, op, parser))
const live = new Live({
  rows: (rows) => {
    list.add(rows, true)
    const over = list.trim(MAX_ROWS)
    if (over > 0) showDropped(live.dropped)
    status(`${list.size.toLocaleString('en')} lines (live)`)
  },
  dropped: (n) => showDropped(n),
  status: (text, failed) => failed ? showError(text, '') : status(text)
})

/** Marks the first time the page reaches a state (navigation to first rows, to histogram), for the browser tests and DevTools. */
function mark (name: string): void {
  if (performance.getEntriesByName(name).length === 0) performance.mark(name)
}

function showDropped (n: number): void {
  el.dropped.hidden = n === 0
  el.dropped.textContent = `${n.toLocaleString('en')} lines dropped`
}

function status (text: string): void {
  el.status.textContent = text
}

/** The server's message, and under the query a caret where it says the problem is. */
function showError (message: string, query: string): void {
  el.error.hidden = false
  el.errorText.textContent = message
  const at = /at character (\d+)/.exec(message)
  const near = /\(at "([^"]*)/.exec(message)
  let pos = at !== null ? Number(at[1]) - 1 : near !== null ? query.indexOf(near[1]!) : -1
  if (pos >= query.length) pos = query.length - 1
  el.errorWhere.hidden = pos < 0 || query === ''
  if (pos >= 0 && query !== '') {
    el.errorWhere.textContent = `${query}\n${' '.repeat(pos)}^`
    el.q.setSelectionRange(pos, pos)
  }
}

function hideError (): void {
  el.error.hidden = true
}

function setRange (from: string, to: string): void {
  el.from.value = from
  el.to.value = to
  const preset = [...el.range.options].find((o) => o.value === from)
  el.range.value = to === 'now' && preset !== undefined ? from : 'custom'
}

function readUrl (): void {
  const p = new URLSearchParams(location.search)
  bar.value = p.get('q') ?? DEFAULT_QUERY
  setRange(p.get('from') ?? 'now-1h', p.get('to') ?? 'now')
  state.live = p.get('live') === '1'
  pendingAt = p.get('at')
}

function writeUrl (push: boolean): void {
  const p = new URLSearchParams()
  p.set('q', bar.value)
  p.set('from', el.from.value)
  p.set('to', el.to.value)
  if (state.live) p.set('live', '1')
  if (pendingAt !== null) p.set('at', pendingAt)
  const url = `/?${p.toString()}`
  if (url === `${location.pathname}${location.search}`) return
  if (push) history.pushState(null, '', url)
  else history.replaceState(null, '', url)
}

/** A link that opens this line: its query, a range around it, and `at`. */
function lineLink (row: Row): string {
  const p = new URLSearchParams({ q: current.query, from: rfc3339(row.ms - 60_000), to: rfc3339(row.ms + 60_000), at: row.ns })
  return `${location.origin}/?${p.toString()}`
}

function narrow (name: string, value: string, op: '=' | '!=', parser: string | null): void {
  if (isMetric(bar.value)) return
  bar.value = withLabelFilter(bar.value, name, value, op, parser)
  run(true)
}

/** Runs what the controls say: rows, volume and fields of a log query, the chart of a metric one, or the live tail. */
async function run (push: boolean): Promise<void> {
  controller.abort()
  controller = new AbortController()
  const signal = controller.signal
  live.stop()
  hideError()
  detail.hide()
  list.collapse()
  const query = bar.value.trim()
  const now = Date.now()
  const fromMs = resolveTime(el.from.value, now)
  const toMs = resolveTime(el.to.value, now)
  writeUrl(push)
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) {
    showError('from and to must be relative to now (now-15m, now) or RFC 3339 times such as 2026-12-04T18:00:00Z', '')
    return
  }
  if (fromMs >= toMs) {
    showError('from must be before to', '')
    return
  }
  if (push) remember(query)
  current = { query, fromMs, toMs }
  bar.refresh()
  list.setHighlight(highlighter(lineMatches(query)))
  el.live.setAttribute('aria-pressed', String(state.live))
  el.pause.hidden = !state.live
  if (state.live) {
    list.set([])
    histogram.clear()
    fields.clear()
    status('connecting…')
    try {
      // Asks for a token first if the server wants one (the WebSocket alone could only fail).
      await getJson('/loki/api/v1/status/buildinfo', {}, {}, signal)
    } catch (err) {
      if (!signal.aborted) showError((err as Error).message, query)
      return
    }
    if (signal.aborted) return
    live.start(query, fromMs)
    return
  }
  status('loading…')
  list.set([])
  pager.reset()
  const startNs = toNs(fromMs)
  const endNs = toNs(toMs)
  const failed = (err: unknown): void => {
    if (signal.aborted) return
    showError(err instanceof ApiError ? err.message : String(err), query)
    status('')
  }
  if (isMetric(query)) {
    fields.clear()
    try {
      const answer = await getJson<LokiData<LokiMatrix>>('/loki/api/v1/query_range', { query, start: startNs, end: endNs }, {}, signal)
      histogram.showMatrix(answer.data.result, fromMs, toMs)
      status(`${answer.data.result.length} series`)
    } catch (err) { failed(err) }
    return
  }
  const rows = pager.page(query, startNs, endNs, FIRST_PAGE, signal).then((page) => {
    list.set(page)
    mark('logagg:first-rows')
    status(`${page.length.toLocaleString('en')} lines${pager.nextAt === null ? '' : ' (scroll for more)'}`)
    if (pendingAt !== null) list.selectNs(pendingAt)
    pendingAt = null
  })
  const volume = getJson<Volume>('/logs/volume', { query, start: startNs, end: endNs }, {}, signal).then((v) => {
    histogram.show(v)
    mark('logagg:histogram')
  })
  const seconds = Math.max(1, Math.ceil((toMs - fromMs) / 1000))
  // The sidebar's counts scan the same entries as the histogram: they start once it is drawn, so
  // the first rows and the histogram do not wait behind six more scans on the shards.
  const sidebar = volume.catch(() => {}).then(async () => { if (!signal.aborted) await fields.load(query, { startNs, endNs, seconds }, signal) })
  const results = await Promise.allSettled([rows, volume, sidebar])
  const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (refused !== undefined) failed(refused.reason)
}

async function more (): Promise<void> {
  if (loadingMore || pager.nextAt === null || state.live || list.size >= MAX_ROWS) return
  loadingMore = true
  const signal = controller.signal
  const { query, fromMs, toMs } = current
  try {
    // A page can hold only lines shown already (one microsecond's worth): then the next one, at most a few.
    for (let tries = 0; tries < 4 && pager.nextAt !== null; tries++) {
      const from = state.desc ? toNs(fromMs) : pager.nextAt
      const to = state.desc ? pager.nextAt : toNs(toMs)
      const page = await pager.page(query, from, to, Math.min(PAGE, MAX_ROWS - list.size), signal)
      if (signal.aborted) return
      list.add(page, !state.desc)
      if (page.length > 0) break
    }
    status(`${list.size.toLocaleString('en')} lines${pager.nextAt === null || list.size >= MAX_ROWS ? '' : ' (scroll for more)'}`)
  } catch (err) {
    if (!signal.aborted) showError((err as Error).message, query)
  } finally {
    loadingMore = false
  }
}

async function loadServices (): Promise<void> {
  try {
    const { data } = await getJson<{ data: string[] }>('/loki/api/v1/label/service/values', { since: '7d' })
    for (const s of data) el.service.append(h('option', { value: s }, s))
  } catch {}
}

onTokenNeeded(askToken)

el.run.addEventListener('click', () => { run(true) })
el.range.addEventListener('change', () => {
  if (el.range.value === 'custom') {
    el.from.value = rfc3339(resolveTime(el.from.value, Date.now()) || Date.now() - 3_600_000)
    el.to.value = rfc3339(resolveTime(el.to.value, Date.now()) || Date.now())
    el.from.focus()
    return
  }
  setRange(el.range.value, 'now')
  run(true)
})
for (const input of [el.from, el.to]) {
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') run(true)
  })
  // The preset shown follows what is typed (a preset only when `to` is now).
  input.addEventListener('change', () => setRange(el.from.value.trim(), el.to.value.trim()))
}
el.service.addEventListener('change', () => {
  if (el.service.value === '') return
  bar.value = replaceSelector(bar.value, `{service=${JSON.stringify(el.service.value)}}`)
  el.service.value = ''
  run(true)
})
el.tz.addEventListener('click', () => {
  state.utc = !state.utc
  el.tz.textContent = state.utc ? 'UTC' : 'Local'
  el.tz.setAttribute('aria-pressed', String(state.utc))
  list.setUtc(state.utc)
  histogram.setUtc(state.utc)
})
el.order.addEventListener('click', () => {
  state.desc = !state.desc
  el.order.textContent = state.desc ? 'Newest first' : 'Oldest first'
  el.order.setAttribute('aria-pressed', String(state.desc))
  list.setOrder(state.desc)
  if (!state.live) run(false)
})
el.wrap.addEventListener('change', () => list.setWrap(el.wrap.checked))
el.live.addEventListener('click', () => {
  state.live = !state.live
  state.paused = false
  live.setPaused(false)
  el.pause.textContent = 'Pause'
  el.pause.setAttribute('aria-pressed', 'false')
  run(true)
})
el.pause.addEventListener('click', () => {
  state.paused = !state.paused
  live.setPaused(state.paused)
  el.pause.textContent = state.paused ? 'Resume' : 'Pause'
  el.pause.setAttribute('aria-pressed', String(state.paused))
})
byId('zoom-out').addEventListener('click', () => {
  const now = Date.now()
  const from = resolveTime(el.from.value, now)
  const to = resolveTime(el.to.value, now)
  if (Number.isNaN(from) || Number.isNaN(to) || from >= to) return
  const half = to - from
  setRange(rfc3339(from - half / 2), rfc3339(Math.min(now, to + half / 2)))
  run(true)
})
el.fieldsToggle.addEventListener('click', () => {
  const hidden = !el.fields.classList.toggle('hidden')
  el.fieldsToggle.setAttribute('aria-expanded', String(hidden))
})
byId('dl-ndjson').addEventListener('click', () => download(list.all, 'ndjson'))
byId('dl-csv').addEventListener('click', () => download(list.all, 'csv'))
window.addEventListener('popstate', () => {
  readUrl()
  run(false)
})
bar.range = () => ({ start: toNs(current.fromMs || Date.now() - 3_600_000), end: toNs(current.toMs || Date.now()) })

readUrl()
if (matchMedia('(max-width: 800px)').matches) {
  el.fields.classList.add('hidden')
  el.fieldsToggle.setAttribute('aria-expanded', 'false')
}
run(false)
loadServices()
