import { afterEach, describe, expect, it, vi } from 'vitest'
import { EXAMPLE_TIMESTAMP, durationUs, formatSpan, formatTimestamp, hasZone, nowUs, parseTimestamp, relativeTime, unixToMicros } from '../../src/core/timestamp.js'
import { seeded } from './random.js'

// Independent reference for calendar arithmetic: the built-in Date, through
// setUTCFullYear (which, unlike Date.UTC, does not map years 0-99 to 19xx).
function utcMs (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(0)
  date.setUTCFullYear(y, mo - 1, d)
  date.setUTCHours(h, mi, s, ms)
  return date.getTime()
}

/** True when y-mo-d is a real Gregorian date, by asking Date whether it rolled over. */
function isRealDate (y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false
  const date = new Date(0)
  date.setUTCFullYear(y, mo - 1, d)
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0')

// Instants whose microsecond count stays below 2^53 (±285 years around 1970).
const SAFE_FROM_MS = utcMs(1700, 1, 1)
const SAFE_TO_MS = utcMs(2240, 1, 1)

describe('parseTimestamp', () => {
  it('parses the documented example to its exact microsecond', () => {
    expect(parseTimestamp(EXAMPLE_TIMESTAMP)).toBe(Date.parse('2026-11-27T21:50:00.123Z') * 1000 + 456)
  })

  it('treats a missing offset as UTC', () => {
    expect(parseTimestamp('2026-03-10T10:20:30')).toBe(utcMs(2026, 3, 10, 10, 20, 30) * 1000)
    expect(parseTimestamp('2026-03-10T10:20:30.5')).toBe(utcMs(2026, 3, 10, 10, 20, 30, 500) * 1000)
    expect(parseTimestamp('2026-03-10T10:20')).toBe(utcMs(2026, 3, 10, 10, 20) * 1000)
  })

  it('accepts Z, z and every zero offset spelling as the same instant', () => {
    const utc = utcMs(2026, 3, 10, 10, 0, 0) * 1000
    for (const suffix of ['Z', 'z', '+00:00', '-00:00', '+0000', '-0000', '+00', '-00', '']) {
      expect(parseTimestamp(`2026-03-10T10:00:00${suffix}`), suffix).toBe(utc)
    }
  })

  it('applies ±hh:mm, ±hhmm and ±hh offsets in the right direction', () => {
    const tenUtc = utcMs(2026, 3, 10, 10, 0) * 1000
    // Local 15:30 at +05:30 is 10:00 UTC; local 02:00 at -08:00 is 10:00 UTC.
    expect(parseTimestamp('2026-03-10T15:30:00+05:30')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T15:30:00+0530')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T02:00:00-08:00')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T02:00:00-0800')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T02:00:00-08')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T12:00+02')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T12:00+02:00')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T00:15:00-09:45')).toBe(tenUtc)
    expect(parseTimestamp('2026-03-10T23:59:00+13:59')).toBe(tenUtc)
    // The extreme offsets the grammar allows.
    expect(parseTimestamp('2026-03-10T10:00:00+23:59')).toBe(tenUtc - (23 * 3600 + 59 * 60) * 1_000_000)
    expect(parseTimestamp('2026-03-10T10:00:00-23:59')).toBe(tenUtc + (23 * 3600 + 59 * 60) * 1_000_000)
  })

  it('moves across day, month, year and leap-day boundaries through the offset', () => {
    expect(parseTimestamp('2026-01-01T01:00:00+02:00')).toBe(utcMs(2025, 12, 31, 23) * 1000)
    expect(parseTimestamp('2025-12-31T22:00:00-03:00')).toBe(utcMs(2026, 1, 1, 1) * 1000)
    expect(parseTimestamp('2024-03-01T00:30:00+01:00')).toBe(utcMs(2024, 2, 29, 23, 30) * 1000)
    expect(parseTimestamp('2023-03-01T00:30:00+01:00')).toBe(utcMs(2023, 2, 28, 23, 30) * 1000)
  })

  it('scales fractions of 1 to 9 digits to microseconds', () => {
    const base = utcMs(2026, 3, 10, 10, 0, 0) * 1000
    const cases: Array<[string, number]> = [
      ['1', 100_000], ['12', 120_000], ['123', 123_000], ['1234', 123_400], ['12345', 123_450],
      ['123456', 123_456], ['1234567', 123_456], ['12345678', 123_456], ['123456789', 123_456],
      ['000001', 1], ['05', 50_000], ['000000000', 0], ['9', 900_000]
    ]
    for (const [fraction, us] of cases) {
      expect(parseTimestamp(`2026-03-10T10:00:00.${fraction}Z`), fraction).toBe(base + us)
    }
  })

  it('accepts a comma as the fraction separator', () => {
    expect(parseTimestamp('2026-03-10T10:00:00,25Z')).toBe(parseTimestamp('2026-03-10T10:00:00.25Z'))
    expect(parseTimestamp('2026-03-10T10:00:00,25Z')).toBe(utcMs(2026, 3, 10, 10, 0, 0, 250) * 1000)
  })

  it('drops digits past the microsecond instead of rounding them', () => {
    const base = utcMs(2026, 3, 10, 10, 0, 0) * 1000
    expect(parseTimestamp('2026-03-10T10:00:00.1234565Z')).toBe(base + 123_456)
    expect(parseTimestamp('2026-03-10T10:00:00.1234569Z')).toBe(base + 123_456)
    expect(parseTimestamp('2026-03-10T10:00:00.0000009Z')).toBe(base)
    // Rounding would carry into the next second here.
    expect(parseTimestamp('2026-03-10T10:00:00.999999999Z')).toBe(base + 999_999)
    // Before 1970 too: dropping keeps the instant inside the written second.
    expect(parseTimestamp('1969-12-31T23:59:59.9999999Z')).toBe(-1)
  })

  it('rejects malformed fractions', () => {
    for (const s of [
      '2026-03-10T10:00:00.Z', // no digits
      '2026-03-10T10:00:00.',
      '2026-03-10T10:00:00.1234567890Z', // 10 digits
      '2026-03-10T10:00:00.12345678901234',
      '2026-03-10T10:00.5Z', // a fraction needs seconds
      '2026-03-10T10:00:00.12a',
      '2026-03-10T10:00:00..1Z'
    ]) {
      expect(parseTimestamp(s), s).toBeNaN()
    }
  })

  it('reads a date alone as midnight UTC', () => {
    expect(parseTimestamp('2026-03-10')).toBe(utcMs(2026, 3, 10) * 1000)
    expect(parseTimestamp('1970-01-01')).toBe(0)
    expect(parseTimestamp('1969-12-31')).toBe(-86_400 * 1_000_000)
    expect(parseTimestamp('2026-03-10')).toBe(Date.parse('2026-03-10') * 1000)
  })

  it('accepts a space or a lowercase t between date and time', () => {
    const expected = parseTimestamp('2026-03-10T10:20:30.5Z')
    expect(parseTimestamp('2026-03-10 10:20:30.5Z')).toBe(expected)
    expect(parseTimestamp('2026-03-10t10:20:30.5z')).toBe(expected)
    expect(parseTimestamp('2026-03-10 10:20:30.5')).toBe(expected)
  })

  it('rejects impossible dates and times', () => {
    for (const s of [
      '2026-02-30', '2026-02-29', '2025-02-29', '2100-02-29', '1900-02-29',
      '2026-04-31', '2026-06-31', '2026-09-31', '2026-11-31', '2026-01-32',
      '2026-13-01', '2026-00-10', '2026-01-00',
      '2026-03-10T24:00:00Z', '2026-03-10T24:00', '2026-03-10T23:60:00Z', '2026-03-10T23:59:61Z',
      '2026-03-10T99:00:00Z', '2026-02-30T10:00:00Z', '2025-02-29T00:00:00Z'
    ]) {
      expect(parseTimestamp(s), s).toBeNaN()
    }
  })

  it('reads a leap second as the last microsecond of its minute', () => {
    const last = parseTimestamp('2016-12-31T23:59:59.999999Z')
    expect(parseTimestamp('2016-12-31T23:59:60Z')).toBe(last)
    expect(parseTimestamp('2016-12-31T23:59:60.5Z')).toBe(last)
    expect(parseTimestamp('2016-12-31T23:59:60')).toBe(last)
    // An offset moves the leap second to another hour's last minute.
    expect(parseTimestamp('2017-01-01T05:29:60+05:30')).toBe(last)
    expect(parseTimestamp('2016-12-31T23:59:60.123456789Z')).toBe(last)
  })

  it('accepts the leap days that exist', () => {
    expect(parseTimestamp('2024-02-29')).toBe(utcMs(2024, 2, 29) * 1000)
    expect(parseTimestamp('2000-02-29')).toBe(utcMs(2000, 2, 29) * 1000)
    expect(parseTimestamp('2400-02-29')).not.toBeNaN()
    expect(parseTimestamp('2024-02-29T23:59:59.999999Z')).toBe(utcMs(2024, 3, 1) * 1000 - 1)
  })

  it('agrees with Date about which calendar dates exist, for every day of many years', () => {
    const years = [0, 1, 4, 99, 100, 400, 1582, 1600, 1700, 1800, 1899, 9996, 9999]
    for (let y = 1895; y <= 2105; y++) years.push(y)
    let checked = 0
    const wrong: string[] = []
    for (const y of years) {
      for (let mo = 0; mo <= 13; mo++) {
        for (let d = 0; d <= 32; d++) {
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`
          const got = parseTimestamp(text)
          const ok = !isRealDate(y, mo, d)
            ? Number.isNaN(got)
            : y >= 1700 && y < 2240 ? got === utcMs(y, mo, d) * 1000 : !Number.isNaN(got)
          if (!ok) wrong.push(`${text} -> ${got}`)
          checked++
        }
      }
    }
    expect(wrong).toEqual([])
    expect(checked).toBeGreaterThan(90_000)
  })

  it('rejects garbage', () => {
    for (const s of [
      '', ' ', 'hello', 'NaN', 'null', '1763500000', '1763500000000',
      '2026/03/10', '2026-3-10', '2026-03-1', '20260310', '2026-03-10T', '2026-03-10T10',
      '2026-03-10T10:0', '2026-03-10T1:00', '2026-03-10T10-00', '2026-03-10T10:00:0', '2026-03-10T10:00:',
      ' 2026-03-10', '2026-03-10 ', '2026-03-10Z', '2026-03-10+01:00', '2026-03-10X10:00',
      '2026-03-10T10:00:00Zjunk', '2026-03-10T10:00:00ZZ', '2026-03-10T10:00:00 Z', '2026-03-10T10:00:00 +05:00',
      '2026-03-10T10:00:00+5', '2026-03-10T10:00:00+05:3', '2026-03-10T10:00:00+05:300', '2026-03-10T10:00:00+053',
      '2026-03-10T10:00:00+05-30', '2026-03-10T10:00:00+24:00', '2026-03-10T10:00:00+05:60', '2026-03-10T10:00:00+ab:cd',
      '2026-03-10T10:00:00GMT', '2026-03-10T10:00:00 UTC', '-2026-03-10', '+02026-03-10', '02026-03-10',
      '2026_03_10', '2026-03-10T10:00:00.123456Z\n', '\t2026-03-10',
      '２０２６-03-10', '٢٠٢٦-03-10', 'Tue, 10 Mar 2026 10:00:00 GMT', '10/03/2026'
    ]) {
      expect(parseTimestamp(s), JSON.stringify(s)).toBeNaN()
    }
  })

  it('rejects strings that are too long', () => {
    expect(parseTimestamp('2026-03-10T10:00:00.123456789+05:30' + ' '.repeat(30))).toBeNaN()
    expect(parseTimestamp('2026-03-10T10:00:00' + '0'.repeat(50))).toBeNaN()
    expect(parseTimestamp('2026-03-10' + 'x'.repeat(100_000))).toBeNaN()
    expect(parseTimestamp('2'.repeat(65))).toBeNaN()
    // The longest valid form is still accepted.
    expect(parseTimestamp('2026-03-10T15:30:00.123456789+05:30')).toBe(utcMs(2026, 3, 10, 10) * 1000 + 123_456)
  })

  it('matches Date.parse for millisecond inputs across many dates and offsets', () => {
    const rnd = seeded(20261127)
    const offsets = [0, 60, -60, 330, -210, 345, 525, -570, 720, -720, 840, -600, 1439, -1439]
    for (let i = 0; i < 5000; i++) {
      const precision = rnd.int(0, 3) // fraction digits: 0 (seconds only) to 3
      const unit = [1000, 100, 10, 1][precision]!
      const instant = Math.floor(rnd.int(SAFE_FROM_MS, SAFE_TO_MS) / unit) * unit
      const offsetMin = rnd.pick(offsets)
      // Wall-clock fields at that offset, written by Date itself.
      const wall = new Date(instant + offsetMin * 60_000).toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
      const sign = offsetMin < 0 ? '-' : '+'
      const abs = Math.abs(offsetMin)
      const suffix = offsetMin === 0 && rnd.int(0, 1) === 0 ? 'Z' : `${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`
      const text = wall.slice(0, 19) + (precision > 0 ? wall.slice(19, 20 + precision) : '') + suffix
      expect(Date.parse(text), text).toBe(instant) // the reference agrees with itself
      expect(parseTimestamp(text), text).toBe(instant * 1000)
      // The other offset spellings mean the same instant.
      if (suffix !== 'Z') {
        expect(parseTimestamp(text.slice(0, -3) + text.slice(-2)), text).toBe(instant * 1000) // ±hhmm
        if (abs % 60 === 0) expect(parseTimestamp(text.slice(0, -3)), text).toBe(instant * 1000) // ±hh
      }
    }
  })

  it('formatTimestamp throws on µs past any date and keeps formatting the next ones right', () => {
    const us = parseTimestamp('2026-03-10T12:00:00.000001Z')
    expect(formatTimestamp(us)).toBe('2026-03-10T12:00:00.000001Z')
    expect(() => formatTimestamp(1e300)).toThrow(RangeError)
    expect(formatTimestamp(us)).toBe('2026-03-10T12:00:00.000001Z')
    expect(formatTimestamp(us + 86_400e6)).toBe('2026-03-11T12:00:00.000001Z')
  })

  it('round-trips UTC microsecond timestamps through formatTimestamp', () => {
    const rnd = seeded(42)
    for (let i = 0; i < 5000; i++) {
      const ms = rnd.int(SAFE_FROM_MS, SAFE_TO_MS)
      const micro = rnd.int(0, 999)
      // Written independently: Date's ISO text with three more digits.
      const text = new Date(ms).toISOString().slice(0, 23) + pad(micro, 3) + 'Z'
      const us = parseTimestamp(text)
      expect(us, text).toBe(ms * 1000 + micro)
      expect(formatTimestamp(us), text).toBe(text)
    }
  })
})

describe('formatTimestamp', () => {
  it('writes six fraction digits in UTC', () => {
    expect(formatTimestamp(0)).toBe('1970-01-01T00:00:00.000000Z')
    expect(formatTimestamp(1)).toBe('1970-01-01T00:00:00.000001Z')
    expect(formatTimestamp(1_000_000)).toBe('1970-01-01T00:00:01.000000Z')
    expect(formatTimestamp(utcMs(2026, 11, 27, 21, 50, 0, 123) * 1000 + 456)).toBe(EXAMPLE_TIMESTAMP)
  })

  it('handles instants before 1970', () => {
    expect(formatTimestamp(-1)).toBe('1969-12-31T23:59:59.999999Z')
    expect(formatTimestamp(-1_000_000)).toBe('1969-12-31T23:59:59.000000Z')
    expect(formatTimestamp(-1_000_001)).toBe('1969-12-31T23:59:58.999999Z')
    expect(formatTimestamp(utcMs(1900, 2, 28, 12) * 1000 + 5)).toBe('1900-02-28T12:00:00.000005Z')
  })

  it('is the inverse of parseTimestamp for integer microseconds', () => {
    const rnd = seeded(7)
    for (let i = 0; i < 2000; i++) {
      const us = rnd.int(SAFE_FROM_MS, SAFE_TO_MS) * 1000 + rnd.int(0, 999)
      expect(parseTimestamp(formatTimestamp(us))).toBe(us)
    }
  })
})

describe('nowUs', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is the clock in microseconds', () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-03-10T10:00:00.123Z'))
    expect(nowUs()).toBe(Date.parse('2026-03-10T10:00:00.123Z') * 1000)
  })
})

describe('relativeTime', () => {
  const now = 1_800_000_000_000_000
  it('reads now, now-<duration> and now+<duration>', () => {
    expect(relativeTime('now', now)).toBe(now)
    expect(relativeTime('now-15m', now)).toBe(now - 15 * 60e6)
    expect(relativeTime(' now - 1h30m ', now)).toBe(now - 5400e6)
    expect(relativeTime('now+500ms', now)).toBe(now + 500e3)
  })

  it('is NaN for anything else', () => {
    for (const text of ['', 'nowish', 'now-', 'now-15', 'now*2', 'yesterday', '15m']) expect(relativeTime(text, now)).toBeNaN()
  })
})

describe('hasZone', () => {
  it('tells a time with Z or an offset from one parseTimestamp read as UTC', () => {
    for (const s of ['2026-12-02T14:05:00Z', '2026-12-02T14:05z', '2026-12-02T14:05:00.5+02:00', '2026-12-02T14:05:00-0530', '2026-12-02 14:05:00+02']) expect(hasZone(s), s).toBe(true)
    for (const s of ['2026-12-02T14:05:00', '2026-12-02T14:05', '2026-12-02T14:05:00.123456', '2026-12-02']) expect(hasZone(s), s).toBe(false)
  })
})

describe('formatSpan', () => {
  it('says a distance in the largest two units that matter, whatever its sign', () => {
    expect(formatSpan(45e6)).toBe('45 s')
    expect(formatSpan(-12 * 60e6)).toBe('12 min')
    expect(formatSpan(2 * 3600e6 + 5 * 60e6)).toBe('2 h 5 min')
    expect(formatSpan(7200e6)).toBe('2 h 0 min')
    expect(formatSpan((3 * 24 + 4) * 3600e6)).toBe('3 d 4 h')
  })
})

describe('unixToMicros', () => {
  it('reads seconds, ms, µs and ns by magnitude', () => {
    expect(unixToMicros(1_764_684_300.25)).toBe(1_764_684_300_250_000)
    expect(unixToMicros(1_764_684_300_250)).toBe(1_764_684_300_250_000)
    expect(unixToMicros(1_764_684_300_250_001)).toBe(1_764_684_300_250_001)
    expect(unixToMicros(1_764_684_300_250_001_000)).toBe(1_764_684_300_250_001)
    expect(unixToMicros(-1)).toBeNaN()
    expect(unixToMicros(Infinity)).toBeNaN()
  })
})

describe('durationUs', () => {
  it('reads days and weeks, as query parameters use them (since=7d)', () => {
    expect(durationUs('7d')).toBe(7 * 86_400e6)
    expect(durationUs('2w')).toBe(14 * 86_400e6)
    expect(durationUs('1d12h')).toBe(36 * 3600e6)
  })
})
