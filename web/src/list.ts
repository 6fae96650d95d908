import { append, clear, h, visible } from './dom.js'
import { rowLevel, type Row } from './rows.js'
import { formatTs } from './time.js'

// The results: a virtualized list. Only the rows in view (plus a few) exist
// as elements, a pool reused as the list scrolls, placed over a spacer as
// tall as every row together; 100,000 rows cost 100,000 objects and ~60
// elements. Without wrap every row is one line (20 px), so where a row is
// is arithmetic; with wrap a row is as tall as its text: rows in view are
// measured, the others estimated from their length, and their tops kept as
// prefix sums (recomputed when a height changes; ~2 ms for 100,000 rows),
// the first row in view staying put. An opened row expands: its details
// (detail.ts) sit under it inside the list, the rows after it move down by
// their measured height.

const ROW_PX = 20
const OVERSCAN = 10
/** Width of a character of the list's 12 px monospace font, for estimates. */
const CHAR_PX = 7.2

export interface ListEvents {
  open: (row: Row) => void
  nearEnd: () => void
}

export class LogList {
  private rows: Row[] = []
  private desc = true
  private wrap = false
  private utc = false
  private mark: RegExp | null = null
  private selected = -1
  private readonly spacer: HTMLElement
  private readonly layer: HTMLElement
  private pool: HTMLElement[] = []
  private scheduled = false
  /** The expanded row's position, or -1; its details' element and measured height. */
  private expanded = -1
  private expandPx = 0
  private detail: HTMLElement | null = null
  /** With wrap: measured heights, and the tops of rows in display order (length n + 1), or null when stale. */
  private heights = new WeakMap<Row, number>()
  private tops: Float64Array | null = null
  private width = 0

  constructor (readonly el: HTMLElement, private readonly events: ListEvents) {
    this.spacer = h('div', { class: 'spacer' })
    this.layer = h('div', { class: 'layer' })
    el.append(this.spacer, this.layer)
    el.addEventListener('scroll', () => this.schedule(), { passive: true })
    new ResizeObserver(() => {
      // Another width wraps every line anew.
      if (this.wrap && el.clientWidth !== this.width) this.reflow()
      this.schedule()
    }).observe(el)
    el.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.row')
      if (row === null) return
      this.select(Number(row.dataset.index), true)
    })
    el.addEventListener('keydown', (e) => this.key(e))
  }

  get size (): number { return this.rows.length }
  get all (): readonly Row[] { return this.rows }
  /** Forgets measured heights (wrap, at a new width). */
  private reflow (): void {
    this.heights = new WeakMap()
    this.tops = null
  }

  /** The tops of every row with wrap (measured or estimated heights), made when stale. */
  private wrapTops (): Float64Array {
    if (this.tops !== null && this.tops.length === this.rows.length + 1) return this.tops
    this.width = this.el.clientWidth
    const perLine = Math.max(20, Math.floor((this.width - 400) / CHAR_PX))
    const tops = new Float64Array(this.rows.length + 1)
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.at(i)!
      tops[i + 1] = tops[i]! + (this.heights.get(row) ?? ROW_PX * Math.max(1, Math.ceil(row.line.length / perLine)) + 1)
    }
    this.tops = tops
    return tops
  }

  /** Where row i starts and how tall it is, without the expanded row's details. */
  private rowTop (i: number): number { return this.wrap ? this.wrapTops()[i]! : i * ROW_PX }
  private rowHeight (i: number): number { return this.wrap ? this.rowTop(i + 1) - this.rowTop(i) : ROW_PX }

  /** Where row i starts: below the expanded row's details when it comes after it. */
  private top (i: number): number {
    return this.rowTop(i) + (this.expanded >= 0 && i > this.expanded ? this.expandPx : 0)
  }

  /** The row at height y (the expanded row for a y within its details); the row count past the end. */
  private indexAt (y: number): number {
    if (this.expanded >= 0) {
      const under = this.rowTop(this.expanded + 1)
      if (y >= under && y < under + this.expandPx) return this.expanded
      if (y >= under) y -= this.expandPx
    }
    if (!this.wrap) return Math.floor(y / ROW_PX)
    const tops = this.wrapTops()
    let lo = 0
    let hi = this.rows.length
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (tops[mid]! <= y) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** The element that shows an opened row's details, placed under that row. */
  attachDetail (el: HTMLElement): void {
    this.detail = el
    this.layer.append(el)
    new ResizeObserver(() => {
      const px = el.hidden ? 0 : el.offsetHeight
      if (px !== this.expandPx) {
        this.expandPx = px
        this.schedule()
      }
    }).observe(el)
  }

  /** Closes the expanded row. */
  collapse (): void {
    if (this.detail !== null) this.detail.hidden = true
    this.expanded = -1
    this.expandPx = 0
    this.schedule()
  }

  private open (i: number): void {
    this.expanded = i
    this.events.open(this.at(i)!)
    this.expandPx = this.detail?.offsetHeight ?? 0
    this.render()
  }

  /** The row shown at position i (rows are kept oldest first). */
  at (i: number): Row | undefined {
    return this.desc ? this.rows[this.rows.length - 1 - i] : this.rows[i]
  }

  set (rows: Row[]): void {
    this.rows = rows
    this.tops = null
    this.selected = -1
    this.collapse()
    this.el.scrollTop = 0
    this.schedule()
  }

  /** More rows, oldest first: older ones (a next page) or newer ones (live). */
  add (rows: Row[], newer: boolean): void {
    if (rows.length === 0) return
    // Rows that come before the ones in view move them down: the view follows.
    const before = newer === this.desc
    const keepView = before && this.el.scrollTop > 0
    const anchor = this.indexAt(this.el.scrollTop)
    const offset = this.el.scrollTop - this.top(anchor)
    if (newer) this.rows.push(...rows)
    else this.rows.unshift(...rows)
    this.tops = null
    if (before && this.selected >= 0) this.selected += rows.length
    if (before && this.expanded >= 0) this.expanded += rows.length
    if (keepView) this.el.scrollTop = this.top(anchor + rows.length) + offset
    this.schedule()
  }

  /** Drops the oldest rows past `max` (live); returns how many went. */
  trim (max: number): number {
    const over = this.rows.length - max
    if (over <= 0) return 0
    this.rows.splice(0, over)
    this.tops = null
    if (this.expanded >= 0) this.expanded = this.desc ? this.expanded : this.expanded - over
    if (this.expanded >= this.rows.length || this.expanded < 0) this.collapse()
    this.schedule()
    return over
  }

  setOrder (desc: boolean): void {
    this.desc = desc
    this.selected = -1
    this.tops = null
    this.schedule()
  }

  setWrap (wrap: boolean): void {
    const first = this.indexAt(this.el.scrollTop)
    this.wrap = wrap
    this.reflow()
    this.el.classList.toggle('wrap', wrap)
    this.el.scrollTop = this.top(first)
    this.schedule()
  }

  setUtc (utc: boolean): void { this.utc = utc; this.schedule() }
  setHighlight (re: RegExp | null): void { this.mark = re; this.schedule() }

  /** Selects position i, scrolls it into view and focuses it; `open` shows its details. */
  select (i: number, open: boolean): void {
    if (i < 0 || i >= this.rows.length) return
    this.selected = i
    const top = this.top(i)
    const height = this.rowHeight(i)
    if (top < this.el.scrollTop) this.el.scrollTop = top
    else if (top + height > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + height - this.el.clientHeight
    if (open) this.open(i)
    else this.render()
  }

  /** Selects the row with this ns time (a copied link); true when found. */
  selectNs (ns: string): boolean {
    for (let i = 0; i < this.rows.length; i++) {
      if (this.at(i)!.ns === ns) {
        this.select(i, true)
        return true
      }
    }
    return false
  }

  private key (e: KeyboardEvent): void {
    // Keys pressed in an expanded row's details are theirs (buttons, the link box).
    if (this.detail !== null && this.detail.contains(e.target as Node)) return
    const page = Math.max(1, this.indexAt(this.el.scrollTop + this.el.clientHeight) - this.indexAt(this.el.scrollTop) - 1)
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, j: 1, k: -1 }
    if (e.key in moves) {
      e.preventDefault()
      const from = this.selected < 0 ? this.indexAt(this.el.scrollTop) - (moves[e.key]! > 0 ? 1 : 0) : this.selected
      this.select(Math.min(this.rows.length - 1, Math.max(0, from + moves[e.key]!)), false)
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault()
      this.select(e.key === 'Home' ? 0 : this.rows.length - 1, false)
    } else if (e.key === 'Enter' && this.selected >= 0) {
      e.preventDefault()
      this.open(this.selected)
    }
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    requestAnimationFrame(() => {
      this.scheduled = false
      this.render()
    })
  }

  private render (): void {
    this.place()
    // With wrap, the rows just filled have their true heights now: when any differs from its
    // estimate, the tops are made again and the rows placed again, the first row in view kept still.
    if (this.wrap && this.measure()) this.place()
    const last = Math.min(this.rows.length, this.indexAt(this.el.scrollTop + this.el.clientHeight) + 1 + OVERSCAN)
    if (last >= this.rows.length - OVERSCAN && this.rows.length > 0) this.events.nearEnd()
  }

  /** Reads the heights of the rows in view; true when one changed (and the view was kept). */
  private measure (): boolean {
    const anchor = this.indexAt(this.el.scrollTop)
    const offset = this.el.scrollTop - this.top(anchor)
    let changed = false
    for (const el of this.pool) {
      if (el.hidden) continue
      const row = this.at(Number(el.dataset.index))
      if (row === undefined) continue
      const px = el.offsetHeight
      if (this.heights.get(row) !== px) {
        this.heights.set(row, px)
        changed = true
      }
    }
    if (!changed) return false
    const was = this.tops
    this.tops = null
    if (was !== null && Math.abs(this.top(anchor) + offset - this.el.scrollTop) > 0.5) this.el.scrollTop = this.top(anchor) + offset
    return true
  }

  /** Sizes the spacer and puts the rows in view (and the expanded row's details) in place. */
  private place (): void {
    const extra = this.expanded >= 0 ? this.expandPx : 0
    this.spacer.style.height = `${this.rowTop(this.rows.length) + extra}px`
    if (this.detail !== null && this.expanded >= 0) this.detail.style.transform = `translateY(${this.rowTop(this.expanded + 1)}px)`
    const first = Math.max(0, this.indexAt(this.el.scrollTop) - OVERSCAN)
    const last = Math.min(this.rows.length, this.indexAt(this.el.scrollTop + this.el.clientHeight) + 1 + OVERSCAN)
    const need = last - first
    while (this.pool.length < need) {
      const el = h('div', { class: 'row', role: 'option' })
      this.layer.append(el)
      this.pool.push(el)
    }
    for (let k = 0; k < this.pool.length; k++) {
      const el = this.pool[k]!
      if (k >= need) {
        el.hidden = true
        continue
      }
      const i = first + k
      const row = this.at(i)!
      el.hidden = false
      el.style.transform = `translateY(${this.top(i)}px)`
      if (el.dataset.index !== String(i) || el.dataset.ns !== row.ns || el.dataset.v !== this.version()) this.fill(el, row, i)
      el.classList.toggle('selected', i === this.selected)
      el.classList.toggle('expanded', i === this.expanded)
      el.setAttribute('aria-expanded', String(i === this.expanded))
      el.setAttribute('aria-selected', String(i === this.selected))
    }
  }

  private version (): string {
    return `${this.utc ? 'u' : 'l'}${this.desc ? 'd' : 'a'}${this.wrap ? 'w' : ''}${this.mark?.source ?? ''}`
  }

  private fill (el: HTMLElement, row: Row, i: number): void {
    el.dataset.index = String(i)
    el.dataset.ns = row.ns
    el.dataset.v = this.version()
    const level = rowLevel(row)
    clear(el)
    append(el, [
      h('span', { class: 'ts' }, formatTs(row.ns, this.utc)),
      h('span', { class: `lvl lvl-${level}` }, level),
      h('span', { class: 'svc' }, row.stream.service ?? ''),
      this.message(row.line)
    ])
  }

  /** The line as text, matches of the line filters in <mark> elements. */
  private message (line: string): HTMLElement {
    const el = h('span', { class: 'msg' })
    const text = visible(line)
    const re = this.mark
    if (re === null) {
      el.textContent = text
      return el
    }
    let at = 0
    re.lastIndex = 0
    for (const m of text.matchAll(re)) {
      if (m[0] === '') continue
      if (m.index > at) el.append(text.slice(at, m.index))
      el.append(h('mark', {}, m[0]))
      at = m.index + m[0].length
    }
    if (at < text.length) el.append(text.slice(at))
    return el
  }
}
