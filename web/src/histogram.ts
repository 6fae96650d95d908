import uPlot from 'uplot'
import type { LokiMatrix, Volume } from './api.js'

// The volume histogram: GET /logs/volume's counts per bucket, stacked by
// detected level (uPlot bars). Dragging across it selects a range to zoom
// to; a click on a bar narrows the range to that bucket.

const LEVELS = ['error', 'warn', 'info', 'debug', 'unknown'] as const
const COLORS: Record<string, string> = { error: '#d64545', warn: '#e0a100', info: '#3a8ee6', debug: '#8a63d2', unknown: '#8c8c8c' }

export class Histogram {
  private plot: uPlot | null = null
  private volume: Volume | null = null
  private dragged = false
  private utc = false

  constructor (private readonly el: HTMLElement, private readonly onRange: (fromMs: number, toMs: number) => void) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(el)
  }

  private size (): { width: number, height: number } {
    const style = getComputedStyle(this.el)
    const inner = this.el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
    return { width: Math.max(200, Math.floor(inner)), height: 120 }
  }

  setUtc (utc: boolean): void {
    this.utc = utc
    if (this.volume !== null) this.show(this.volume)
  }

  clear (): void {
    this.plot?.destroy()
    this.plot = null
    this.volume = null
    this.el.dataset.total = '0'
  }

  /** Bucket totals per level, for tests and the summary line. */
  totals (): Record<string, number> {
    const out: Record<string, number> = {}
    for (const l of LEVELS) out[l] = (this.volume?.levels[l] ?? []).reduce((a, b) => a + b, 0)
    return out
  }

  /** A metric query's series as lines over the range. */
  showMatrix (result: LokiMatrix[], fromMs: number, toMs: number): void {
    this.plot?.destroy()
    this.volume = null
    const times = [...new Set(result.flatMap((s) => s.values.map(([t]) => t)))].sort((a, b) => a - b)
    const palette = ['#3a8ee6', '#d64545', '#e0a100', '#2f9e44', '#8a63d2', '#c2255c', '#1098ad', '#8c8c8c']
    const opts: uPlot.Options = {
      ...this.size(),
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true, range: [fromMs / 1000, toMs / 1000] } },
      axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', size: 50 }],
      series: [{}, ...result.map((s, i): uPlot.Series => ({
        label: Object.entries(s.metric).map(([k, v]) => `${k}=${v}`).join(', ') || '{}',
        stroke: palette[i % palette.length]!,
        width: 1.5
      }))],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return
          const from = u.posToVal(u.select.left, 'x') * 1000
          const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
          this.onRange(Math.round(from), Math.round(to))
        }]
      }
    }
    if (this.utc) opts.tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC')
    const data: uPlot.AlignedData = [times, ...result.map((s) => {
      const at = new Map(s.values.map(([t, v]) => [t, Number(v)]))
      return times.map((t) => at.get(t) ?? null)
    })]
    // eslint-disable-next-line new-cap
    this.plot = new uPlot(opts, data, this.el)
  }

  show (v: Volume): void {
    this.plot?.destroy()
    this.dragged = false
    this.volume = v
    const xs = v.times.map((t) => t / 1000)
    // Stacked: series k is the sum of levels 0..k; drawn from the tallest down so each shows its own band.
    const cum: number[][] = []
    let run = new Array<number>(xs.length).fill(0)
    for (const l of LEVELS) {
      run = run.map((x, i) => x + (v.levels[l]?.[i] ?? 0))
      cum.push(run)
    }
    const order = [...LEVELS.keys()].reverse()
    const bars = uPlot.paths.bars!({ size: [0.9, 80], align: 1 })
    const opts: uPlot.Options = {
      ...this.size(),
      padding: [8, 8, 0, 0],
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: true, range: [v.start / 1000, v.end / 1000] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{ stroke: 'currentColor', grid: { show: false } }, { stroke: 'currentColor', size: 44, grid: { stroke: 'rgba(128,128,128,0.2)' } }],
      series: [
        { label: 'Bucket', value: (_u, ts) => ts === null ? '' : this.utc ? `${new Date(ts * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC` : new Date(ts * 1000).toLocaleString('sv') },
        ...order.map((k): uPlot.Series => ({
          label: LEVELS[k],
          fill: COLORS[LEVELS[k]!],
          stroke: COLORS[LEVELS[k]!],
          width: 0,
          paths: bars,
          points: { show: false },
          value: (_u, _val, _si, idx) => idx === null ? '' : String(v.levels[LEVELS[k]!]?.[idx] ?? 0)
        }))
      ],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return
          this.dragged = true
          const from = u.posToVal(u.select.left, 'x') * 1000
          const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
          this.onRange(Math.round(from), Math.round(to))
        }]
      }
    }
    if (this.utc) opts.tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC')
    const data: uPlot.AlignedData = [xs, ...order.map((k) => cum[k]!)]
    // eslint-disable-next-line new-cap
    this.plot = new uPlot(opts, data, this.el)
    this.el.dataset.total = String(run.reduce((a, b) => a + b, 0))
    const over = this.plot.over
    over.addEventListener('click', (e) => {
      if (this.dragged) {
        this.dragged = false
        return
      }
      if (this.plot === null || this.volume === null) return
      // Bars start at their bucket's time: the bucket is the one whose span holds the click.
      const ms = this.plot.posToVal(e.clientX - over.getBoundingClientRect().left, 'x') * 1000
      const t = this.volume.times[Math.floor((ms - this.volume.start) / this.volume.step)]
      if (t === undefined) return
      this.onRange(t, Math.min(t + this.volume.step, this.volume.end))
    })
  }
}
