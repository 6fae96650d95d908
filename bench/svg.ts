// A small hand-written SVG bar chart: title, y axis with four gridlines at
// round values, one labelled bar per point. No dependencies, readable source,
// renders on GitHub (plain shapes and text, no scripts or external fonts).

export interface Bar {
  label: string
  /** null draws an empty slot marked "failed". */
  value: number | null
}

export interface BarChartOptions {
  title: string
  /** Shown after the title, e.g. "entries/s". */
  unit: string
  bars: readonly Bar[]
  /** Formats a bar's value label (the axis uses compactNumber). */
  format?: (v: number) => string
  width?: number
  height?: number
}

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The smallest round step (1, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k) that is at least `v`, so gridlines land on round numbers. */
function niceStep (v: number): number {
  if (!(v > 0)) return 1
  const exp = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= v) return m * exp
  return 10 * exp
}

export function compactNumber (v: number): string {
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(2)}M`
  if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toFixed(1)}k`
  if (Math.abs(v) >= 10) return `${+v.toFixed(1)}`
  return `${+v.toFixed(2)}`
}

/** The svg element, title, unit line and four gridlines up to `max`, for a plot of `top`..`top + plotH`. */
function frame (width: number, height: number, title: string, unit: string, left: number, right: number, max: number, y: (v: number) => number): string[] {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${width / 2}" y="33" text-anchor="middle" fill="#555">${escapeXml(unit)}</text>`
  ]
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    const gy = y(v).toFixed(1)
    out.push(`<line x1="${left}" y1="${gy}" x2="${width - right}" y2="${gy}" stroke="${i === 0 ? '#333' : '#ddd'}"/>`)
    out.push(`<text x="${left - 6}" y="${gy}" dy="4" text-anchor="end" fill="#555">${escapeXml(compactNumber(v))}</text>`)
  }
  return out
}

export function barChart (opts: BarChartOptions): string {
  const width = opts.width ?? 420
  const height = opts.height ?? 240
  const format = opts.format ?? compactNumber
  const left = 56
  const right = 16
  const top = 40
  const bottom = 36
  const plotW = width - left - right
  const plotH = height - top - bottom
  const values = opts.bars.map((b) => b.value).filter((v): v is number => v !== null && Number.isFinite(v))
  const max = 4 * niceStep((Math.max(0, ...values) * 1.1) / 4)
  const y = (v: number): number => top + plotH - (v / max) * plotH

  const out = frame(width, height, opts.title, opts.unit, left, right, max, y)
  const slot = plotW / Math.max(1, opts.bars.length)
  const barW = Math.min(64, slot * 0.6)
  opts.bars.forEach((bar, i) => {
    const cx = left + slot * i + slot / 2
    out.push(`<text x="${cx.toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${escapeXml(bar.label)}</text>`)
    if (bar.value === null || !Number.isFinite(bar.value)) {
      out.push(`<text x="${cx.toFixed(1)}" y="${y(0) - 6}" text-anchor="middle" fill="#c00">failed</text>`)
      return
    }
    const by = y(bar.value)
    out.push(`<rect x="${(cx - barW / 2).toFixed(1)}" y="${by.toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(0) - by).toFixed(1)}" fill="#3b6fb6"/>`)
    out.push(`<text x="${cx.toFixed(1)}" y="${(by - 5).toFixed(1)}" text-anchor="middle" font-weight="bold">${escapeXml(format(bar.value))}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

export interface GroupedBarChartOptions {
  title: string
  unit: string
  /** One group per label (e.g. a percentile), one bar per series in each. */
  groups: readonly string[]
  series: ReadonlyArray<{ name: string, values: ReadonlyArray<number | null> }>
  format?: (v: number) => string
  width?: number
  height?: number
}

const SERIES_COLOURS = ['#3b6fb6', '#d9822b', '#5a9e4b', '#8e5ea2']

/** Bars grouped by label, a colour per series, with a legend: e.g. latency percentiles of two servers side by side. */
export function groupedBarChart (opts: GroupedBarChartOptions): string {
  const width = opts.width ?? 520
  const height = opts.height ?? 260
  const format = opts.format ?? compactNumber
  const left = 56
  const right = 16
  const top = 56
  const bottom = 36
  const plotW = width - left - right
  const plotH = height - top - bottom
  const values = opts.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v))
  const max = 4 * niceStep((Math.max(0, ...values) * 1.1) / 4)
  const y = (v: number): number => top + plotH - (v / max) * plotH
  const out = frame(width, height, opts.title, opts.unit, left, right, max, y)
  opts.series.forEach((s, k) => {
    const lx = left + k * 110
    out.push(`<rect x="${lx}" y="40" width="10" height="10" fill="${SERIES_COLOURS[k % SERIES_COLOURS.length]!}"/>`)
    out.push(`<text x="${lx + 14}" y="49">${escapeXml(s.name)}</text>`)
  })
  const slot = plotW / Math.max(1, opts.groups.length)
  const barW = Math.min(40, (slot * 0.8) / Math.max(1, opts.series.length))
  opts.groups.forEach((label, g) => {
    const cx = left + slot * g + slot / 2
    out.push(`<text x="${cx.toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${escapeXml(label)}</text>`)
    opts.series.forEach((s, k) => {
      const x = cx - (barW * opts.series.length) / 2 + k * barW
      const v = s.values[g] ?? null
      if (v === null || !Number.isFinite(v)) {
        out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${y(0) - 6}" text-anchor="middle" fill="#c00">—</text>`)
        return
      }
      const by = y(v)
      out.push(`<rect x="${x.toFixed(1)}" y="${by.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - by).toFixed(1)}" fill="${SERIES_COLOURS[k % SERIES_COLOURS.length]!}"/>`)
      out.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(by - 4).toFixed(1)}" text-anchor="middle" font-size="10">${escapeXml(format(v))}</text>`)
    })
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
