import type { LokiStream } from './api.js'
import { nsToMs } from './time.js'

/** One log line as the page holds it. */
export interface Row {
  /** Loki's nanosecond time text. */
  ns: string
  ms: number
  line: string
  /** The stream's labels (service among them). */
  stream: Record<string, string>
  /** Structured metadata: the entry's own attributes. */
  meta: Record<string, string>
}

/** The rows of a Loki `streams` answer, oldest first (equal times keep the answer's order). */
export function rowsOf (result: LokiStream[]): Row[] {
  const rows: Row[] = []
  for (const s of result) {
    for (const v of s.values) rows.push({ ns: v[0], ms: nsToMs(v[0]), line: v[1], stream: s.stream, meta: v[2]?.structuredMetadata ?? {} })
  }
  return rows.sort(compareRows)
}

/** Oldest first by the exact ns text (same length for years 2001-2286, so text order is time order). */
export function compareRows (a: Row, b: Row): number {
  if (a.ns.length !== b.ns.length) return a.ns.length - b.ns.length
  return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0
}

/** A line's fields when it is a JSON object or logfmt, else null (shown expanded, filterable). */
export function parsedFields (line: string): { parser: 'json' | 'logfmt', fields: Record<string, string> } | null {
  const t = line.trim()
  if (t.startsWith('{')) {
    try {
      const doc = JSON.parse(t) as unknown
      if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
        const fields: Record<string, string> = {}
        const walk = (o: Record<string, unknown>, prefix: string): void => {
          for (const [k, v] of Object.entries(o)) {
            const name = prefix + k.replace(/[^a-zA-Z0-9_]/g, '_')
            if (v === null || Array.isArray(v)) continue
            if (typeof v === 'object') walk(v as Record<string, unknown>, `${name}_`)
            else fields[name] = String(v)
          }
        }
        walk(doc as Record<string, unknown>, '')
        return { parser: 'json', fields }
      }
    } catch {}
    return null
  }
  const fields: Record<string, string> = {}
  const pair = /([A-Za-z_][\w.-]*)=("((?:[^"\\]|\\.)*)"|\S*)/g
  let n = 0
  for (const m of t.matchAll(pair)) {
    fields[m[1]!.replace(/[^a-zA-Z0-9_]/g, '_')] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!
    n++
  }
  return n >= 2 ? { parser: 'logfmt', fields } : null
}

/** The level shown on a row: from a level-like attribute, else a word in the line (as GET /logs/volume detects it). */
export function rowLevel (row: Row): string {
  const v = (row.meta.level ?? row.meta.lvl ?? row.meta.severity ?? row.meta.detected_level ?? row.stream.level ?? '').toLowerCase()
  if (v !== '') {
    if (/^(e|err|error|fatal|f|critical|crit|panic|emerg|emergency|alert|severe|[0-3])$/.test(v)) return 'error'
    if (/^(w|warn|warning|4)$/.test(v)) return 'warn'
    if (/^(i|info|information|informational|notice|[56])$/.test(v)) return 'info'
    if (/^(d|debug|dbg|trace|t|verbose|7)$/.test(v)) return 'debug'
    return 'unknown'
  }
  if (/\b(error|err|fatal|critical|crit|panic|emerg|emergency|alert|exception)\b/i.test(row.line)) return 'error'
  if (/\b(warn|warning)\b/i.test(row.line)) return 'warn'
  if (/\b(info|notice|information)\b/i.test(row.line)) return 'info'
  if (/\b(debug|trace|dbg)\b/i.test(row.line)) return 'debug'
  return 'unknown'
}
