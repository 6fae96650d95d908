import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonEscape } from '../../src/core/json-text.js'
import { LINE_WORDS, detectLevel, levelOf, lineLevel } from '../../src/logql/detected-level.js'

/** The reference: the whole-word, any-case regexes GET /logs/volume ran as line filters before, most severe first. */
function byRegex (line: string): string {
  for (const [level, words] of LINE_WORDS) if (new RegExp(`\\b(${words.join('|')})\\b`, 'i').test(line)) return level
  return 'unknown'
}

const bytes = (line: string): Buffer => Buffer.from(jsonEscape(line))

describe('lineLevel', () => {
  it('finds the most severe level word of a line, as the whole-word regexes do, in its stored (JSON-escaped) bytes (fast-check)', () => {
    const piece = fc.oneof(
      fc.constantFrom('error', 'ERROR', 'Err', 'fatal', 'warn', 'Warning', 'info', 'notice', 'debug', 'TRACE', 'dbg', 'exception'),
      fc.constantFrom('errors', 'error_code', 'xerror', 'info2', 'warned', 'débug', 'über', 'é'),
      fc.constantFrom(' ', '\n', '\t', '"', '\\', '/', ':', '=', '[', ']', '-', '_', '\u00e9', '\u2028', '\u0001'),
      fc.string({ maxLength: 6 })
    )
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const line = pieces.join('')
      const b = bytes(line)
      expect(lineLevel(b, 0, b.length)).toBe(byRegex(line))
    }), { numRuns: 2000 })
  })

  it('reads only its range', () => {
    const b = Buffer.from('error here|and info there')
    expect(lineLevel(b, 11, b.length)).toBe('info')
    expect(lineLevel(b, 0, 10)).toBe('error')
  })
})

describe('detectLevel', () => {
  it('takes a level-like label first, in the order level, lvl, severity, detected_level, then the line', () => {
    const line = bytes('an error happened')
    expect(detectLevel({ level: 'WARN' }, line, 0, line.length)).toBe('warn')
    expect(detectLevel({ lvl: '6', severity: 'error' }, line, 0, line.length)).toBe('info')
    expect(detectLevel({ detected_level: 'debug' }, line, 0, line.length)).toBe('debug')
    expect(detectLevel({ level: 'loud' }, line, 0, line.length)).toBe('unknown') // a level label, but no level: not read from the line
    expect(detectLevel({ level: '' }, line, 0, line.length)).toBe('error')
    expect(levelOf(' Critical ')).toBe('error')
  })
})
