import { describe, expect, it } from 'vitest'
import { highlighter, lineMatches, replaceSelector, withLabelFilter } from '../../../web/src/query-text.js'
import { parsedFields } from '../../../web/src/rows.js'
import { formatTs, resolveTime } from '../../../web/src/time.js'

// The explorer's pure modules (web/src), run in node: the LogQL text the page
// writes (filter for / out, the service picker), the line filters it
// highlights, the times it reads and shows, the fields it parses out of a line.
// Bundled by Vite, the page no longer loads them as separate files, so they
// are tested here; explorer-browser.test.ts checks the server runs what they write.

describe('explorer: LogQL text', () => {
  it('adds a label filter with the value quoted (quotes and backslashes escaped)', () => {
    expect(withLabelFilter('{service="api"}', 'msg', 'say "hi" \\ now', '=')).toBe('{service="api"} | msg="say \\"hi\\" \\\\ now"')
  })

  it('adds a parser once: keeps the one the query has, adds the one the field came from otherwise', () => {
    expect(withLabelFilter('{service="api"} | json', 'user', 'u1', '!=', 'logfmt')).toBe('{service="api"} | json | user!="u1"')
    expect(withLabelFilter('{service="api"}', 'user', 'u1', '=', 'logfmt')).toBe('{service="api"} | logfmt | user="u1"')
  })

  it('replaces the selector (a quoted } inside it included) and keeps what follows', () => {
    expect(replaceSelector('{service="a", x=~"}"} |= "b"', '{service="c"}')).toBe('{service="c"} |= "b"')
    expect(replaceSelector('sum(count_over_time({a="b"}[1m]))', '{service="c"}')).toBe('{service="c"}')
  })

  it('finds the positive line filters (|= and |~, `or` alternatives) and highlights their matches', () => {
    const query = '{a="b"} |= "x.y" |~ "(?i)err(or)?" != "no" |= "p" or "q"'
    const matches = lineMatches(query)
    expect(matches).toEqual([{ regex: false, value: 'x.y' }, { regex: true, value: '(?i)err(or)?' }, { regex: false, value: 'p' }, { regex: false, value: 'q' }])
    // x.y is literal: xzy does not match it; "no" is a negative filter, never highlighted.
    expect('ERROR x.y xzy p q no'.match(highlighter(matches)!) ?? []).toEqual(['ERROR', 'x.y', 'p', 'q'])
  })
})

describe('explorer: times', () => {
  it('reads relative and RFC 3339 times, and NaN for anything else', () => {
    expect(resolveTime('now-1h30m', 10_000_000)).toBe(10_000_000 - 5_400_000)
    expect(resolveTime('now', 123)).toBe(123)
    expect(resolveTime('2026-12-04T18:00:00Z', 0)).toBe(Date.parse('2026-12-04T18:00:00Z'))
    expect(resolveTime('yesterday', 0)).toBeNaN()
    expect(resolveTime('now-15x', 0)).toBeNaN()
  })

  it('shows a nanosecond time to the microsecond, in UTC when asked', () => {
    expect(formatTs('1796407790023456789', true)).toBe(`${new Date(1796407790023).toISOString().slice(0, 19).replace('T', ' ')}.023456`)
  })
})

describe('explorer: parsed fields of a line', () => {
  it('flattens a JSON object (nested keys joined by _, arrays and nulls left out)', () => {
    expect(parsedFields('{"a": {"b": 1}, "c": [1], "d": null, "e": "x"}')).toEqual({ parser: 'json', fields: { a_b: '1', e: 'x' } })
  })

  it('reads logfmt with quoted values and escapes', () => {
    expect(parsedFields('level=warn msg="a \\"b\\" c" took=3ms')).toEqual({ parser: 'logfmt', fields: { level: 'warn', msg: 'a "b" c', took: '3ms' } })
  })

  it('finds no fields in plain words', () => {
    expect(parsedFields('just words here')).toBeNull()
  })
})
