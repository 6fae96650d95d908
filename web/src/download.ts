import type { Row } from './rows.js'

// The rows in the list as a file: NDJSON (one JSON object a line, GET /logs's
// field names) or CSV (RFC 4180 quoting), made in the page from what it holds.

const csvField = (v: string): string => /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v

export function download (rows: readonly Row[], format: 'ndjson' | 'csv'): void {
  const iso = (r: Row): string => `${new Date(Math.floor(r.ms)).toISOString().slice(0, 19)}.${r.ns.slice(-9, -3)}Z`
  const lines = format === 'ndjson'
    ? rows.map((r) => JSON.stringify({ timestamp: iso(r), service: r.stream.service ?? '', message: r.line, labels: r.stream, attributes: r.meta }))
    : ['timestamp,service,message,labels,attributes', ...rows.map((r) => [iso(r), r.stream.service ?? '', r.line, JSON.stringify(r.stream), JSON.stringify(r.meta)].map(csvField).join(','))]
  const blob = new Blob([lines.join('\n') + '\n'], { type: format === 'ndjson' ? 'application/x-ndjson' : 'text/csv' })
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = `logs.${format}`
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}
