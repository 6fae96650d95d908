import { getJson, type DetectedField, type LokiData, type LokiVector } from './api.js'
import { clear, h, visible } from './dom.js'
import { quote, selectorEnd } from './query-text.js'

// The fields sidebar: the query's labels (GET /loki/api/v1/labels) and
// fields (GET /loki/api/v1/detected_fields: attributes and what | json or
// | logfmt reads), each with its top values and how many entries of the
// range have them, counted by the shards:
//   topk(5, sum by (name) (count_over_time(Q [range])))   at the range's end

/** Fields listed, and of them counted at once (the others when opened). */
const MAX_FIELDS = 40
const AUTO = 6
const TOP = 5
const PARALLEL = 3

export interface Range { startNs: string, endNs: string, seconds: number }
export type FieldFilter = (name: string, value: string, op: '=' | '!=', parser: string | null) => void

interface Field { name: string, parser: string | null, kind: 'label' | 'field' }

export class Fields {
  private generation = 0

  constructor (private readonly el: HTMLElement, private readonly filter: FieldFilter) {}

  clear (): void {
    this.generation++
    clear(this.el)
  }

  async load (query: string, range: Range, signal: AbortSignal): Promise<void> {
    const gen = ++this.generation
    clear(this.el)
    const selector = query.slice(0, selectorEnd(query))
    const times = { start: range.startNs, end: range.endNs }
    const [labels, detected] = await Promise.all([
      getJson<{ data: string[] }>('/loki/api/v1/labels', { query: selector, ...times }, {}, signal),
      getJson<{ fields: DetectedField[] }>('/loki/api/v1/detected_fields', { query, ...times }, {}, signal)
    ])
    if (gen !== this.generation) return
    const hasParser = /\|\s*(json|logfmt)\b/.test(query)
    const fields: Field[] = labels.data.map((name) => ({ name, parser: null, kind: 'label' as const }))
    const known = new Set(labels.data)
    // Attributes first, then parsed fields, fewest values first; only names a LogQL grouping can take.
    const rank = (f: DetectedField): number => (f.parsers === null ? 0 : 1e9) + f.cardinality
    for (const f of detected.fields.sort((a, b) => rank(a) - rank(b))) {
      if (known.has(f.label) || f.label.startsWith('__') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.label)) continue
      known.add(f.label)
      // A field only a parser reads needs that parser in the counting query.
      const parser = f.parsers === null || hasParser ? null : f.parsers[0] ?? null
      fields.push({ name: f.label, parser, kind: 'field' })
    }
    const shown = fields.slice(0, MAX_FIELDS)
    const boxes = shown.map((f, i) => this.box(f, i < AUTO))
    this.el.append(...boxes.map((b) => b.el))
    if (fields.length > shown.length) this.el.append(h('p', { class: 'more' }, `${fields.length - shown.length} more fields not listed`))
    if (fields.length === 0) this.el.append(h('p', { class: 'more' }, 'No fields in this range'))
    const counted = new Set<number>()
    const count = async (i: number): Promise<void> => {
      if (counted.has(i) || gen !== this.generation) return
      counted.add(i)
      const f = shown[i]!
      const base = f.parser === null ? query.trim() : `${query.trim()} | ${f.parser}`
      try {
        const answer = await getJson<LokiData<LokiVector>>('/loki/api/v1/query', {
          query: `topk(${TOP}, sum by (${f.name}) (count_over_time(${base} [${range.seconds}s])))`,
          time: range.endNs
        }, {}, signal)
        if (gen !== this.generation) return
        boxes[i]!.fill(answer.data.result
          .filter((r) => r.metric[f.name] !== undefined)
          .map((r) => ({ value: r.metric[f.name]!, count: Number(r.value[1]) }))
          .sort((a, b) => b.count - a.count))
      } catch (err) {
        if (!signal.aborted) boxes[i]!.failed((err as Error).message)
      }
    }
    // The first few are counted at once; the others when opened (each count is a scan of the range).
    boxes.forEach((b, i) => b.el.addEventListener('toggle', () => { if (b.el.open) count(i) }))
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < Math.min(AUTO, shown.length) && gen === this.generation) await count(next++)
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker))
  }

  private box (f: Field, open: boolean): { el: HTMLDetailsElement, fill: (values: Array<{ value: string, count: number }>) => void, failed: (message: string) => void } {
    const list = h('ul', { class: 'values' }, h('li', { class: 'loading' }, '…'))
    const el = h('details', { class: `field ${f.kind}`, open, 'data-field': f.name }, h('summary', {}, f.name), list)
    return {
      el,
      fill: (values) => {
        clear(list)
        const top = values[0]?.count ?? 1
        for (const { value, count } of values) {
          const pick = h('button', { type: 'button', class: 'value', title: `Filter for ${f.name}=${quote(value)}` }, h('span', { class: 'v' }, visible(value)), h('span', { class: 'n' }, count.toLocaleString('en')))
          const out = h('button', { type: 'button', class: 'filter-out', 'aria-label': `Filter out ${f.name} ${value}`, title: `Filter out ${f.name}=${quote(value)}` }, '−')
          pick.addEventListener('click', () => this.filter(f.name, value, '=', f.parser))
          out.addEventListener('click', () => this.filter(f.name, value, '!=', f.parser))
          const bar = h('span', { class: 'bar' })
          bar.style.width = `${Math.max(2, Math.round(100 * count / top))}%`
          list.append(h('li', {}, pick, out, bar))
        }
        if (values.length === 0) list.append(h('li', { class: 'loading' }, 'no values'))
      },
      failed: (message) => {
        clear(list)
        list.append(h('li', { class: 'err' }, message))
      }
    }
  }
}
