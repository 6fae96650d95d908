import { describe, expect, it } from 'vitest'
import { goDurationNs, goFloat, humanBytes } from '../../src/logql/units.js'

// Label values read as Loki reads them (Go's ParseFloat and ParseDuration,
// go-humanize's ParseBytes), for label filters such as `latency > 250ms`.

describe('goFloat', () => {
  it.each([['12', 12], ['-1.5e3', -1500], ['.5', 0.5], ['5.', 5], ['+3', 3], ['Inf', Infinity], ['-inf', -Infinity], ['1E2', 100]])('reads %s', (text, n) => {
    expect(goFloat(text)).toBe(n)
  })
  it('reads NaN', () => { expect(goFloat('NaN')).toBeNaN() })
  it.each(['', ' 1', '1 ', '0x10', '1_000', '1e', 'abc', '2KiB', '--1'])('refuses %j', (text) => {
    expect(goFloat(text)).toBeNull()
  })
})

describe('goDurationNs', () => {
  it.each([['250ms', 250e6], ['1h30m', 5400e9], ['-1.5s', -1.5e9], ['0', 0], ['10us', 10e3], ['10µs', 10e3], ['3ns', 3], ['.5m', 30e9], ['2h0m0.5s', 7200.5e9]])('reads %s', (text, ns) => {
    expect(goDurationNs(text)).toBeCloseTo(ns, 0)
  })
  it.each(['', '5', '1d', '1 s', 's', '1.5', 'soon', '1s-'])('refuses %j', (text) => {
    expect(goDurationNs(text)).toBeNull()
  })
})

describe('humanBytes', () => {
  it.each([['42', 42], ['2.5KiB', 2560], ['1 MB', 1e6], ['10k', 1e4], ['1,024', 1024], ['3 gib', 3 * 1024 ** 3], ['7B', 7], ['1KB ', 1000]])('reads %j', (text, n) => {
    expect(humanBytes(text)).toBe(n)
  })
  it.each(['', 'KB', '1 XB', 'lots', ' 1KB', '1.2.3KB'])('refuses %j', (text) => {
    expect(humanBytes(text)).toBeNull()
  })
})
