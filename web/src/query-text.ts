// Small edits of LogQL text done by the page (filter for / out, service
// picker) and what it reads back from it (the line filters to highlight).
// The server parses and checks the query; this only needs to find its parts.

/** A LogQL string literal (Go's escapes are JSON's for what matters here). */
export const quote = (value: string): string => JSON.stringify(value)

/** True for a metric query (`sum(...)`, `count_over_time(...)`); a log query starts with its selector. */
export const isMetric = (q: string): boolean => !q.trim().startsWith('{')

/** Where the stream selector ends: the index just past its `}` (quotes respected), or -1. */
export function selectorEnd (q: string): number {
  const start = q.indexOf('{')
  if (start < 0) return -1
  let inString: string | null = null
  for (let i = start + 1; i < q.length; i++) {
    const c = q[i]
    if (inString !== null) {
      if (c === '\\' && inString === '"') i++
      else if (c === inString) inString = null
    } else if (c === '"' || c === '`') {
      inString = c
    } else if (c === '}') {
      return i + 1
    }
  }
  return -1
}

/** The query with its stream selector replaced (a query without one becomes the selector). */
export function replaceSelector (q: string, selector: string): string {
  const end = selectorEnd(q)
  if (isMetric(q) || end < 0) return selector
  return selector + q.slice(end)
}

/** A selector that picks exactly this stream. */
export function streamSelector (labels: Record<string, string>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}=${quote(v)}`).join(', ')}}`
}

/** The query narrowed by `name op "value"` as a label filter stage; a parser is added first for parsed fields. */
export function withLabelFilter (q: string, name: string, value: string, op: '=' | '!=', parser: string | null = null): string {
  let out = q.trim()
  if (parser !== null && !/\|\s*(json|logfmt)\b/.test(out)) out += ` | ${parser}`
  return `${out} | ${name}${op}${quote(value)}`
}

export interface LineMatch { regex: boolean, value: string }

const STRING = String.raw`"((?:[^"\\]|\\.)*)"|` + '`([^`]*)`'

/** The positive line filters (`|= "x"`, `|~ "re"`, with `or`) whose matches the list highlights. */
export function lineMatches (q: string): LineMatch[] {
  const out: LineMatch[] = []
  const filter = new RegExp(String.raw`(\|=|\|~)\s*((?:(?:${STRING})\s*(?:or\s*)?)+)`, 'g')
  for (const m of q.matchAll(filter)) {
    const regex = m[1] === '|~'
    for (const s of m[2]!.matchAll(new RegExp(STRING, 'g'))) {
      const value = s[1] !== undefined ? JSON.parse(`"${s[1]}"`) as string : s[2]!
      if (value !== '') out.push({ regex, value })
    }
  }
  return out
}

/** One RegExp finding every highlighted match; null when there is nothing to highlight. */
export function highlighter (matches: LineMatch[]): RegExp | null {
  const parts: string[] = []
  let ignoreCase = false
  for (const m of matches) {
    if (!m.regex) {
      parts.push(m.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      continue
    }
    let source = m.value
    if (source.startsWith('(?i)')) {
      ignoreCase = true
      source = source.slice(4)
    }
    try {
      new RegExp(source).test('')
      parts.push(source)
    } catch {}
  }
  if (parts.length === 0) return null
  return new RegExp(parts.map((p) => `(?:${p})`).join('|'), ignoreCase ? 'gi' : 'g')
}
