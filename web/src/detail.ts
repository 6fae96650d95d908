import { CATEGORIZE, getJson, type LokiData, type LokiStream } from './api.js'
import { append, clear, h, visible } from './dom.js'
import { streamSelector } from './query-text.js'
import { compareRows, parsedFields, rowsOf, type Row } from './rows.js'
import { formatTs } from './time.js'

// A row expanded: its line in full, its labels, attributes and parsed
// fields with "filter for" / "filter out", the lines around it in its
// stream ("show context"), and a link to it.

export interface DetailEvents {
  filter: (name: string, value: string, op: '=' | '!=', parser: string | null) => void
  link: (row: Row) => string
  close: () => void
}

/** Lines shown before and after the line in its stream. */
const CONTEXT = 10

export class Detail {
  private row: Row | null = null

  constructor (private readonly el: HTMLElement, private readonly events: DetailEvents, private readonly utc: () => boolean) {
    el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.events.close()
    })
  }

  get current (): Row | null { return this.row }

  hide (): void {
    this.row = null
    this.el.hidden = true
    clear(this.el)
  }

  show (row: Row): void {
    this.row = row
    this.el.hidden = false
    clear(this.el)
    const parsed = parsedFields(row.line)
    const context = h('div', { class: 'context' })
    const linkBox = h('input', { class: 'link', readonly: true, 'aria-label': 'Link to this line', hidden: true })
    const contextButton = h('button', { type: 'button', class: 'show-context' }, 'Show context')
    contextButton.addEventListener('click', () => { this.context(row, context) })
    const copy = h('button', { type: 'button', class: 'copy-link' }, 'Copy link')
    copy.addEventListener('click', () => {
      const link = this.events.link(row)
      linkBox.value = link
      linkBox.hidden = false
      linkBox.select()
      navigator.clipboard?.writeText(link).then(() => { copy.textContent = 'Link copied' }, () => { copy.textContent = 'Copy the link below' })
    })
    const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Close details' }, '×')
    close.addEventListener('click', () => this.events.close())
    append(this.el, [
      h('div', { class: 'detail-head' }, h('strong', {}, formatTs(row.ns, this.utc())), ' ', contextButton, ' ', copy, ' ', close),
      linkBox,
      h('pre', { class: 'line' }, visible(row.line).replace(/\u21b5/g, '\n')),
      this.table('Labels', row.stream, null, 'labels'),
      Object.keys(row.meta).length > 0 ? this.table('Attributes', row.meta, null, 'attributes') : null,
      parsed === null ? null : this.table(`Fields (${parsed.parser})`, parsed.fields, parsed.parser, 'parsed'),
      context
    ])
  }

  private table (title: string, values: Record<string, string>, parser: string | null, kind: string): HTMLElement {
    const body = h('tbody')
    for (const [name, value] of Object.entries(values)) {
      const forBtn = h('button', { type: 'button', class: 'filter-for', title: `Only lines with ${name}=${value}`, 'aria-label': `Filter for ${name} ${value}` }, '+')
      const outBtn = h('button', { type: 'button', class: 'filter-out', title: `Lines without ${name}=${value}`, 'aria-label': `Filter out ${name} ${value}` }, '−')
      forBtn.addEventListener('click', () => this.events.filter(name, value, '=', parser))
      outBtn.addEventListener('click', () => this.events.filter(name, value, '!=', parser))
      body.append(h('tr', { 'data-name': name }, h('th', {}, name), h('td', {}, visible(value)), h('td', { class: 'actions' }, forBtn, outBtn)))
    }
    return h('table', { class: `kv ${kind}` }, h('caption', {}, title), body)
  }

  /** The lines before and after `row` in its own stream (labels exactly), from two Loki queries. */
  private async context (row: Row, into: HTMLElement): Promise<void> {
    clear(into)
    into.append(h('p', {}, 'Loading context…'))
    const query = streamSelector(row.stream)
    const us = BigInt(row.ns) / 1000n
    try {
      const [before, after] = await Promise.all([
        getJson<LokiData<LokiStream>>('/loki/api/v1/query_range', { query, end: String(us * 1000n), start: String((us - 86_400_000_000n) * 1000n), limit: String(CONTEXT + 1), direction: 'backward' }, CATEGORIZE),
        getJson<LokiData<LokiStream>>('/loki/api/v1/query_range', { query, start: String(us * 1000n), end: String((us + 86_400_000_000n) * 1000n), limit: String(CONTEXT + 1), direction: 'forward' }, CATEGORIZE)
      ])
      const seen = new Set<string>()
      const rows = [...rowsOf(before.data.result), ...rowsOf(after.data.result)].filter((r) => {
        const key = `${r.ns}\0${r.line}`
        if (seen.has(key)) return false
        seen.add(key)
        return true
      }).sort(compareRows)
      clear(into)
      const list = h('ol', { class: 'context-lines', 'aria-label': `Lines around this one in ${query}` })
      for (const r of rows) {
        const self = r.ns === row.ns && r.line === row.line
        list.append(h('li', { class: self ? 'self' : undefined, 'aria-current': self ? 'true' : undefined }, h('span', { class: 'ts' }, formatTs(r.ns, this.utc())), ' ', h('span', { class: 'msg' }, visible(r.line))))
      }
      into.append(h('h3', {}, `Context in ${query}`), list)
    } catch (err) {
      clear(into)
      into.append(h('p', { class: 'err' }, (err as Error).message))
    }
  }
}
