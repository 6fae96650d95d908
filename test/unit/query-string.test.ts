import { describe, expect, it } from 'vitest'
import { MAX_QUERY_LENGTH, MAX_QUERY_PARAMS, parseQueryString } from '../../src/http/query-string.js'

describe('parseQueryString', () => {
  it('reads no query string (Express passes null) as no parameters', () => {
    expect(parseQueryString(null)).toEqual({})
    expect(parseQueryString(undefined)).toEqual({})
  })

  it('reads single and repeated parameters, decoding + and percent escapes', () => {
    expect({ ...parseQueryString('service=a&service=b%20c&limit=5&contains=x+y') })
      .toEqual({ service: ['a', 'b c'], limit: '5', contains: 'x y' })
    expect({ ...parseQueryString('') }).toEqual({})
  })

  it('keeps keys such as __proto__ as plain parameters', () => {
    const q = parseQueryString('__proto__=x&constructor=y')
    expect(Object.keys(q)).toEqual(['__proto__', 'constructor'])
  })

  it(`reads every parameter up to ${MAX_QUERY_PARAMS}, the last one included`, () => {
    const many = Array.from({ length: MAX_QUERY_PARAMS - 1 }, (_, i) => `service=s${i}`).join('&') + '&limit=7'
    const q = parseQueryString(many)
    expect(q.limit).toBe('7')
    expect(q.service).toHaveLength(MAX_QUERY_PARAMS - 1)
  })

  it(`refuses more than ${MAX_QUERY_PARAMS} parameters with 400 rather than dropping any`, () => {
    const many = Array.from({ length: MAX_QUERY_PARAMS + 1 }, () => 'a=1').join('&')
    expect(() => parseQueryString(many)).toThrow(expect.objectContaining({ statusCode: 400, code: 'LOGAGG_ERR_BAD_QUERY' }))
  })

  it(`refuses a query string over ${MAX_QUERY_LENGTH} characters with 414`, () => {
    expect(() => parseQueryString(`contains=${'x'.repeat(MAX_QUERY_LENGTH)}`))
      .toThrow(expect.objectContaining({ statusCode: 414, code: 'LOGAGG_ERR_QUERY_TOO_LONG' }))
  })

  it('refuses bytes that are not UTF-8, and keeps what only looks odd', () => {
    expect(() => parseQueryString('query=%7Bapp%3D~%22%A0%A1%22%7D')).toThrow(/not valid UTF-8/)
    expect(() => parseQueryString('a=1&service=%C3')).toThrow(/not valid UTF-8 \(at "service=%C3"\)/)
    // U+FFFD itself, sent as UTF-8, is text like any other; so are a stray % and a +.
    expect(parseQueryString('service=%EF%BF%BD&x=100%&y=a+b')).toEqual({ service: '\uFFFD', x: '100%', y: 'a b' })
  })
})
