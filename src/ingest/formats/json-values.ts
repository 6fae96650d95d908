import { describeJsonError } from '../entry.js'

// The JSON documents of a body in any of the shapes shippers send: one
// array of objects (Vector's http sink, Fluent Bit's `json`), one object per
// line (NDJSON, Fluent Bit's `json_lines`), or objects one after another with
// no separator at all (Fluent Bit's `json_stream`). A top-level array anywhere
// stands for its elements. A value that does not parse is listed as an error
// in its place; the others are kept.

export type JsonValue = { value: unknown, error?: undefined } | { value?: undefined, error: string }

const QUOTE = 34
const BACKSLASH = 92
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9

/** One value's text as its documents: a top-level array stands for its elements (unless `expand` is false). */
export function * parsed (source: string, expand = true): Generator<JsonValue> {
  let value: unknown
  try {
    value = JSON.parse(source)
  } catch (err) {
    yield { error: `not valid JSON: ${describeJsonError(err)}` }
    return
  }
  if (expand && Array.isArray(value)) for (const v of value) yield { value: v }
  else yield { value }
}

/**
 * Top-level JSON values one after another from `from` on, found by bracket
 * depth and string state only (JSON.parse checks each): objects and arrays
 * end at their closing bracket, strings at their closing quote, anything
 * else at whitespace or the next opening bracket or quote.
 */
function * scanValues (text: string, from: number): Generator<JsonValue> {
  let i = from
  const n = text.length
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++
    if (i >= n) return
    const start = i
    const first = text.charCodeAt(i)
    if (first === OPEN_BRACE || first === OPEN_BRACKET || first === QUOTE) {
      let depth = 0
      let inString = false
      for (; i < n; i++) {
        const c = text.charCodeAt(i)
        if (inString) {
          if (c === BACKSLASH) i++
          else if (c === QUOTE) {
            inString = false
            if (depth === 0) break
          }
        } else if (c === QUOTE) inString = true
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
        else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) break
      }
      i = Math.min(i + 1, n)
    } else {
      while (i < n) {
        const c = text.charCodeAt(i)
        if (isSpace(c) || c === OPEN_BRACE || c === OPEN_BRACKET || c === QUOTE) break
        i++
      }
    }
    yield * parsed(text.slice(start, i))
  }
}

/**
 * Every JSON document of `text` in order, arrays standing for their
 * elements. The common shapes (one array, one object per line) cost one
 * JSON.parse per line; from the first line that does not parse on its own
 * (pretty-printed JSON, objects with no separator, a broken line) the rest is
 * scanned value by value.
 */
export function * jsonValues (text: string): Generator<JsonValue> {
  let lineStart = 0
  while (lineStart <= text.length) {
    let end = text.indexOf('\n', lineStart)
    if (end === -1) end = text.length
    const line = text.slice(lineStart, end)
    if (line.trim() !== '') {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        yield * scanValues(text, lineStart)
        return
      }
      if (Array.isArray(value)) for (const v of value) yield { value: v }
      else yield { value }
    }
    lineStart = end + 1
  }
}
