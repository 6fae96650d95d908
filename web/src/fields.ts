import { getJson, type DetectedField, type LokiData, type LokiVector } from './api.js'
import { selectorEnd } from './query-text.js'

// The fields sidebar's data: the query's labels (GET /loki/api/v1/labels) and
// fields (GET /loki/api/v1/detected_fields: attributes and what | json or
// | logfmt reads), each with its top values and how many entries of the
// range have them, counted by the shards:
//   topk(5, sum by (name) (count_over_time(Q [range])))   at the range's end
// It hands each new state to `show`; ui/fields-sidebar.tsx draws it.

/** Fields listed, and of them counted at once (the others when opened). */
const MAX_FIELDS = 40
const AUTO = 6
const TOP = 5
const PARALLEL = 3

export interface Range { startNs: string, endNs: string, seconds: number }
export type FieldFilter = (name: string, value: string, op: '=' | '!=', parser: string | null) => void

export interface FieldValue { value: string, count: number }
export interface FieldBox {
  name: string
  /** The parser a counting query (and a filter) needs for this field, or null. */
  parser: string | null
  kind: 'label' | 'field'
  /** Open when first shown (and counted at once). */
  open: boolean
  /** Its top values once counted; null while not (yet). */
  values: FieldValue[] | null
  error: string | null
}
export interface FieldsState { boxes: FieldBox[], notListed: number, loaded: boolean }

export const NO_FIELDS: FieldsState = { boxes: [], notListed: 0, loaded: false }

export class Fields {
  private generation = 0
  private state: FieldsState = NO_FIELDS
  /** Counts a field's values when its box is opened (set by load). */
  private counter: (i: number) => Promise<void> = async () => {}

  constructor (private readonly show: (state: FieldsState) => void) {}

  clear (): void {
    this.generation++
    this.update(NO_FIELDS)
  }

  /** The person opened box i: its values are counted now if they were not. */
  opened (i: number): void {
    this.counter(i)
  }

  private update (state: FieldsState): void {
    this.state = state
    this.show(state)
  }

  private setBox (i: number, patch: Partial<FieldBox>): void {
    this.update({ ...this.state, boxes: this.state.boxes.map((b, k) => k === i ? { ...b, ...patch } : b) })
  }

  async load (query: string, range: Range, signal: AbortSignal): Promise<void> {
    const gen = ++this.generation
    this.update(NO_FIELDS)
    const selector = query.slice(0, selectorEnd(query))
    const times = { start: range.startNs, end: range.endNs }
    const [labels, detected] = await Promise.all([
      getJson<{ data: string[] }>('/loki/api/v1/labels', { query: selector, ...times }, {}, signal),
      getJson<{ fields: DetectedField[] }>('/loki/api/v1/detected_fields', { query, ...times }, {}, signal)
    ])
    if (gen !== this.generation) return
    const hasParser = /\|\s*(json|logfmt)\b/.test(query)
    const fields: Array<Pick<FieldBox, 'name' | 'parser' | 'kind'>> = labels.data.map((name) => ({ name, parser: null, kind: 'label' as const }))
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
    this.update({
      boxes: shown.map((f, i) => ({ ...f, open: i < AUTO, values: null, error: null })),
      notListed: fields.length - shown.length,
      loaded: true
    })
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
        this.setBox(i, {
          values: answer.data.result
            .filter((r) => r.metric[f.name] !== undefined)
            .map((r) => ({ value: r.metric[f.name]!, count: Number(r.value[1]) }))
            .sort((a, b) => b.count - a.count)
        })
      } catch (err) {
        if (!signal.aborted && gen === this.generation) this.setBox(i, { error: (err as Error).message })
      }
    }
    // The first few are counted at once; the others when opened (each count is a scan of the range).
    this.counter = count
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < Math.min(AUTO, shown.length) && gen === this.generation) await count(next++)
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker))
  }
}
