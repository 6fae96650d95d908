import pc from 'picocolors'
import { describe, expect, it } from 'vitest'
import { PrettyPrinter, highlightLevels, plainLine, serviceColor, visible, type Entry } from '../../src/cli/render.js'

// How the CLI prints an entry: the server's text line when piped, aligned and
// coloured columns in a terminal.

const on = pc.createColors(true)
const off = pc.createColors(false)
const TS = '2026-11-27T21:50:00.123456Z'
const entry = (service: string, message: string, attributes?: Record<string, string>): Entry =>
  attributes === undefined ? { service, timestamp: TS, message } : { service, timestamp: TS, message, attributes }
// eslint-disable-next-line no-control-regex
const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '')

describe('plainLine', () => {
  it('is GET /logs?format=text\'s line with every control character escaped, tabs and text untouched', () => {
    expect(plainLine(entry('api', 'a\nb\r\nc \x1b[31m\td é'))).toBe(`${TS} api a\\nb\\r\\nc \\x1b[31m\td é`)
    // An OSC sequence (set the window title) and C1 CSI in the service and the message.
    expect(plainLine(entry('a\x1b]0;owned\x07', 'x\x9b2J'))).toBe(`${TS} a\\x1b]0;owned\\x07 x\\x9b2J`)
  })
})

describe('PrettyPrinter', () => {
  it('pads the service to the widest seen so far', () => {
    const p = new PrettyPrinter(off)
    expect(p.format(entry('api', 'one'))).toBe(`${TS} api one`)
    expect(p.format(entry('billing', 'two'))).toBe(`${TS} billing two`)
    expect(p.format(entry('api', 'three'))).toBe(`${TS} api     three`)
  })

  it('does not widen the column past its cap for a long name, which is written whole', () => {
    const p = new PrettyPrinter(off, 8)
    p.format(entry('a-very-long-service-name', 'x'))
    expect(p.format(entry('api', 'y'))).toBe(`${TS} api      y`)
    expect(p.format(entry('a-very-long-service-name', 'z'))).toBe(`${TS} a-very-long-service-name z`)
  })

  it('indents the continuation lines of a multi-line message under its first line', () => {
    const p = new PrettyPrinter(off)
    const lines = p.format(entry('api', 'Error: boom\n    at f (a.js:1)')).split('\n')
    expect(lines[1]).toBe(`${' '.repeat(TS.length + 1 + 3 + 1)}    at f (a.js:1)`)
  })

  it('shows control characters as escapes, so a stored line cannot drive the terminal', () => {
    const out = new PrettyPrinter(on).format(entry('api\x07', 'x \x1b[2J y\r'))
    expect(out).toContain('\\x1b[2J')
    expect(out).toContain('api\\x07')
    expect(out).toContain('y\\r')
    expect(strip(out)).not.toContain('\x07')
    expect(strip(out)).not.toContain('\r')
  })

  it('colours: the timestamp dim, the service by its colour, attributes dim after the message', () => {
    const out = new PrettyPrinter(on).format(entry('api', 'hello', { region: 'eu' }))
    expect(out).toBe(`${on.dim(TS)} ${serviceColor('api', on)('api')} hello ${on.dim('region=eu')}`)
    expect(out).not.toBe(strip(out))
  })

  it('writes no escape sequence without colour', () => {
    const out = new PrettyPrinter(off).format(entry('api', 'an error and a warning', { k: 'v' }))
    expect(out).toBe(strip(out))
    expect(out).toBe(`${TS} api an error and a warning k=v`)
  })
})

describe('serviceColor', () => {
  it('gives a service the same colour every time, and different services different colours', () => {
    expect(serviceColor('api', on)('x')).toBe(serviceColor('api', on)('x'))
    const colours = new Set(['api', 'web', 'db', 'auth', 'billing', 'search'].map((s) => serviceColor(s, on)('x')))
    expect(colours.size).toBeGreaterThan(2)
  })

  it('never uses red or yellow, which mark levels', () => {
    for (let i = 0; i < 200; i++) {
      const out = serviceColor(`svc-${i}`, on)('x')
      expect(out).not.toBe(on.red('x'))
      expect(out).not.toBe(on.yellow('x'))
    }
  })
})

describe('highlightLevels', () => {
  it('marks error words red and warnings yellow, whole words only, any case', () => {
    expect(highlightLevels('ERROR: disk; level=warn; errors=0', on)).toBe(`${on.bold(on.red('ERROR'))}: disk; level=${on.yellow('warn')}; errors=0`)
    expect(highlightLevels('{"level":"fatal"}', on)).toBe(`{"level":"${on.bold(on.red('fatal'))}"}`)
  })
})

describe('visible', () => {
  it('keeps tabs, newlines and non-ASCII text', () => {
    expect(visible('a\tb\nc é ✓')).toBe('a\tb\nc é ✓')
    expect(visible('\x00\x7f\x9b')).toBe('\\x00\\x7f\\x9b')
  })
})
