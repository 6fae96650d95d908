import { getJson, type DetectedField } from './api.js'
import { selectorEnd } from './query-text.js'

// The query bar: Enter runs, Shift+Enter adds a line; suggestions of label
// names and values (from the server's label API) and of operators as one
// types, ↑/↓ to move in them, Enter or Tab to take one, Escape to close;
// without suggestions ↑ on the first line and ↓ on the last walk the query
// history (localStorage). It keeps the textarea's text itself (caret, history)
// and hands the suggestions to `show`: ui/query-bar.tsx draws them.

const HISTORY_KEY = 'logagg.history'
const HISTORY_MAX = 50

interface Suggestion { label: string, insert: string, replace: number, caret?: number }

/** What the suggestion list shows: no labels when it is closed. */
export interface Suggestions { labels: string[], active: number }
export const NO_SUGGESTIONS: Suggestions = { labels: [], active: 0 }

const OPERATORS_IN: Array<[string, string]> = [['=', '="'], ['!=', '!="'], ['=~', '=~"'], ['!~', '!~"']]
/** Stages after `| `: what is typed, what is inserted, where the caret goes from the end. */
const STAGES: Array<[string, string, number]> = [
  ['json', 'json', 0], ['logfmt', 'logfmt', 0], ['line_format', 'line_format "{{.}}"', -3], ['drop', 'drop ', 0], ['keep', 'keep ', 0]
]
const PIPELINE: Array<[string, string, number]> = [
  ['|= "…"  line contains', '|= ""', -1], ['!= "…"  line does not contain', '!= ""', -1],
  ['|~ "…"  line matches regex', '|~ ""', -1], ['!~ "…"  line does not match regex', '!~ ""', -1],
  ['| json', '| json', 0], ['| logfmt', '| logfmt', 0], ['| line_format "{{.…}}"', '| line_format "{{.}}"', -3],
  ['| drop …', '| drop ', 0], ['| keep …', '| keep ', 0]
]

export function history (): string[] {
  try {
    const h = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown
    return Array.isArray(h) ? h.filter((x): x is string => typeof x === 'string') : []
  } catch {
    return []
  }
}

export function remember (q: string): void {
  const t = q.trim()
  if (t === '') return
  localStorage.setItem(HISTORY_KEY, JSON.stringify([t, ...history().filter((x) => x !== t)].slice(0, HISTORY_MAX)))
}

export class QueryBar {
  private items: Suggestion[] = []
  private active = 0
  private historyAt = -1
  private draft = ''
  private names: Promise<string[]> | null = null
  private fields: Promise<string[]> | null = null
  private readonly values = new Map<string, Promise<string[]>>()
  private seq = 0
  range: () => { start: string, end: string } = () => ({ start: '', end: '' })

  constructor (readonly input: HTMLTextAreaElement, private readonly show: (s: Suggestions) => void, private readonly run: () => void) {
    // A text box with suggestions (ARIA 1.2's editable combobox); Preact's types know a textarea only as a textbox.
    input.setAttribute('role', 'combobox')
    input.addEventListener('keydown', (e) => this.key(e))
    input.addEventListener('input', () => {
      this.historyAt = -1
      this.fit()
      this.suggest()
    })
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150))
  }

  get value (): string { return this.input.value }
  set value (q: string) {
    this.input.value = q
    this.fit()
  }

  /** Forgets cached label names and values (a new range or query). */
  refresh (): void {
    this.names = null
    this.fields = null
    this.values.clear()
  }

  /** One row per line of the query, up to six. */
  fit (): void {
    this.input.rows = Math.min(6, Math.max(1, this.input.value.split('\n').length))
  }

  close (): void {
    this.items = []
    this.show(NO_SUGGESTIONS)
    this.input.setAttribute('aria-expanded', 'false')
    this.input.removeAttribute('aria-activedescendant')
  }

  private key (e: KeyboardEvent): void {
    const open = this.items.length > 0
    if (open && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault()
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : -1) + this.items.length) % this.items.length
      this.draw()
      return
    }
    if (open && (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey))) {
      e.preventDefault()
      this.accept(this.active)
      return
    }
    if (e.key === 'Escape' && open) {
      e.preventDefault()
      this.close()
      return
    }
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault()
      this.suggest()
      return
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault()
      this.close()
      this.run()
      return
    }
    const { selectionStart: at, value } = this.input
    const onFirst = !value.slice(0, at).includes('\n')
    const onLast = !value.slice(at).includes('\n')
    if ((e.key === 'ArrowUp' && (onFirst || e.ctrlKey)) || (e.key === 'ArrowDown' && (onLast || e.ctrlKey))) {
      const past = history()
      if (past.length === 0) return
      if (this.historyAt === -1) this.draft = value
      const next = this.historyAt + (e.key === 'ArrowUp' ? 1 : -1)
      if (next < -1 || next >= past.length) return
      e.preventDefault()
      this.historyAt = next
      this.value = next === -1 ? this.draft : past[next]!
      this.input.setSelectionRange(this.input.value.length, this.input.value.length)
    }
  }

  private labelNames (): Promise<string[]> {
    this.names ??= getJson<{ data: string[] }>('/loki/api/v1/labels', this.range()).then((r) => r.data, () => [])
    return this.names
  }

  /** Labels and fields (attributes, parsed) of the query's selector, for label filters after a pipe. */
  private fieldNames (): Promise<string[]> {
    const query = this.input.value.slice(0, selectorEnd(this.input.value))
    if (query === '') return Promise.resolve([])
    this.fields ??= Promise.all([
      this.labelNames(),
      getJson<{ fields: DetectedField[] }>('/loki/api/v1/detected_fields', { query, ...this.range() }).then((r) => r.fields.map((f) => f.label), () => [])
    ]).then(([a, b]) => [...new Set([...a, ...b])].filter((n) => /^[A-Za-z_]\w*$/.test(n) && !n.startsWith('__')).sort())
    return this.fields
  }

  private labelValues (name: string): Promise<string[]> {
    let p = this.values.get(name)
    if (p === undefined) {
      p = getJson<{ data: string[] }>(`/loki/api/v1/label/${encodeURIComponent(name)}/values`, this.range()).then((r) => r.data, () => [])
      this.values.set(name, p)
    }
    return p
  }

  /** What fits at the caret: label names, a label's values, matcher operators or pipeline stages. */
  private async suggest (): Promise<void> {
    const seq = ++this.seq
    const before = this.input.value.slice(0, this.input.selectionStart)
    const open = before.lastIndexOf('{')
    const inSelector = open >= 0 && !before.slice(open).includes('}')
    let items: Suggestion[] = []
    if (inSelector) {
      const value = /([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(before)
      const name = /(?:^|[{,\s])([A-Za-z_]\w*)?$/.exec(before.slice(open))
      const afterName = /([A-Za-z_]\w*)\s+$/.exec(before) ?? /([A-Za-z_]\w*)$/.exec(before)
      if (value !== null) {
        const typed = value[3]!
        items = (await this.labelValues(value[1]!)).filter((v) => v.startsWith(typed)).slice(0, 50)
          .map((v) => ({ label: v, insert: `${JSON.stringify(v).slice(1, -1)}"`, replace: typed.length }))
      } else if (name !== null) {
        const typed = name[1] ?? ''
        const names = await this.labelNames()
        if (typed !== '' && names.includes(typed) && afterName !== null) {
          items = OPERATORS_IN.map(([label, insert]) => ({ label: `${typed} ${label}`, insert, replace: 0 }))
        } else {
          items = names.filter((n) => n.startsWith(typed)).map((n) => ({ label: n, insert: `${n}="`, replace: typed.length }))
        }
      }
    } else if (open >= 0 && /\|\s*([A-Za-z_]\w*)?$/.test(before) && !/[|!][=~]\s*$/.test(before)) {
      // After a pipe: a stage, or a label / field name to filter on.
      const typed = /\|\s*([A-Za-z_]\w*)?$/.exec(before)![1] ?? ''
      const pad = /\|$/.test(before) ? ' ' : ''
      const stages: Suggestion[] = STAGES.filter(([word]) => word.startsWith(typed)).map(([word, insert, caret]) => ({ label: word, insert: pad + insert, replace: typed.length, caret }))
      const names = (await this.fieldNames()).filter((n) => n.startsWith(typed)).map((n) => ({ label: `${n} (filter)`, insert: `${pad}${n}="`, replace: typed.length }))
      items = [...stages, ...names]
    } else if (open >= 0 && /(^|\s)([|!]?[=~]?)$/.test(before)) {
      const typed = /([|!]?[=~]?)$/.exec(before)![1]!
      items = PIPELINE.filter(([, insert]) => insert.startsWith(typed)).map(([label, insert, caret]) => ({ label, insert, replace: typed.length, caret }))
    }
    if (seq !== this.seq) return
    this.items = items
    this.active = 0
    this.draw()
  }

  private draw (): void {
    if (this.items.length === 0) {
      this.close()
      return
    }
    this.show({ labels: this.items.map((s) => s.label), active: this.active })
    this.input.setAttribute('aria-expanded', 'true')
    this.input.setAttribute('aria-activedescendant', `suggest-${this.active}`)
  }

  /** Takes suggestion i (a click on it). */
  accept (i: number): void {
    const s = this.items[i]
    if (s === undefined) return
    const at = this.input.selectionStart
    const v = this.input.value
    this.input.value = v.slice(0, at - s.replace) + s.insert + v.slice(at)
    const caret = at - s.replace + s.insert.length + (s.caret ?? 0)
    this.input.setSelectionRange(caret, caret)
    this.close()
    this.input.focus()
    this.suggest()
  }
}
