import type { Registry } from 'prom-client'

// Counters and histograms cheap enough for the hot path. prom-client's own
// validate and hash the label set on every inc() and observe() (a sorted key
// string built each time), which a single-entry POST paid per request. Here
// each label set is a cell found by a key string the caller builds; counting
// is then plain arithmetic, and the registry formats the cells when scraped,
// as it does its own metrics (it calls get()).

type Labels = Record<string, string>

interface Sample { labels: Labels, value: number, metricName?: string }

/** A counter per label set, exposed in the Prometheus text by the registry. */
export class CounterCells {
  private readonly cells = new Map<string, { labels: Labels, value: number }>()
  readonly type = 'counter'
  readonly aggregator = 'sum'

  constructor (readonly name: string, readonly help: string, registry: Registry) {
    registry.registerMetric(this as never)
  }

  /** Adds `n` to the cell of `labels`, found by `key` (the caller's string for that label set). */
  inc (key: string, labels: () => Labels, n = 1): void {
    let cell = this.cells.get(key)
    if (cell === undefined) this.cells.set(key, cell = { labels: labels(), value: 0 })
    cell.value += n
  }

  get (): { name: string, help: string, type: string, values: Sample[], aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: [...this.cells.values()].map((c) => ({ labels: c.labels, value: c.value })), aggregator: this.aggregator }
  }
}

/** A histogram per label set with fixed buckets. */
export class HistogramCells {
  private readonly cells = new Map<string, { labels: Labels, counts: Float64Array, sum: number, count: number }>()
  readonly type = 'histogram'
  readonly aggregator = 'sum'

  constructor (readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    registry.registerMetric(this as never)
  }

  observe (key: string, labels: () => Labels, value: number): void {
    let cell = this.cells.get(key)
    if (cell === undefined) this.cells.set(key, cell = { labels: labels(), counts: new Float64Array(this.bounds.length), sum: 0, count: 0 })
    const { bounds } = this
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        cell.counts[i]!++
        break
      }
    }
    cell.sum += value
    cell.count++
  }

  get (): { name: string, help: string, type: string, values: Sample[], aggregator: string } {
    const values: Sample[] = []
    for (const cell of this.cells.values()) {
      let acc = 0
      this.bounds.forEach((le, i) => {
        acc += cell.counts[i]!
        values.push({ labels: { ...cell.labels, le: String(le) }, value: acc, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { ...cell.labels, le: '+Inf' }, value: cell.count, metricName: `${this.name}_bucket` })
      values.push({ labels: cell.labels, value: cell.sum, metricName: `${this.name}_sum` })
      values.push({ labels: cell.labels, value: cell.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
