import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseLabelString } from '../../src/ingest/formats/label-string.js'

describe('parseLabelString', () => {
  it('reads a Prometheus label set into pairs in the order written', () => {
    expect(parseLabelString('{app="api", env="prod"}')).toEqual(['app', 'api', 'env', 'prod'])
    expect(parseLabelString(' { job = "x" ,level="info", } ')).toEqual(['job', 'x', 'level', 'info'])
    expect(parseLabelString('{}')).toEqual([])
    expect(parseLabelString('{a=""}')).toEqual(['a', ''])
  })

  it('unescapes Go string escapes in values', () => {
    expect(parseLabelString('{msg="say \\"hi\\"\\n\\\\ done\\t\\u00e9\\x41"}')).toEqual(['msg', 'say "hi"\n\\ done\té' + 'A'])
    expect(parseLabelString('{a="{b=\\"c\\"}, d"}')).toEqual(['a', '{b="c"}, d'])
  })

  it('says what is wrong and where', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /expected \{ at offset 0/],
      ['app="x"', /expected \{/],
      ['{app}', /expected = at offset 4/],
      ['{app=x}', /double-quoted value/],
      ['{app="x}', /unterminated value/],
      ['{app="x" env="y"}', /expected , or \}/],
      ['{1app="x"}', /expected a label name/],
      ['{app="x"} tail', /unexpected text after \}/],
      ['{app="\\q"}', /unknown escape \\q/],
      ['{app="\\u12"}', /bad escape/]
    ]
    for (const [text, message] of cases) expect(parseLabelString(text), text).toMatch(message)
  })

  it('reads back any label set written the way Loki clients write it', () => {
    const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/)
    fc.assert(fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 30 })), { maxLength: 8 }), (labels) => {
      const text = `{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`
      expect(parseLabelString(text)).toEqual(labels.flat())
    }))
  })

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (text) => {
      const out = parseLabelString(text)
      expect(typeof out === 'string' || Array.isArray(out)).toBe(true)
    }))
  })
})
