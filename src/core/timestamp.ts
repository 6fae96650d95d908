// Timestamps travel and are stored as microseconds since the Unix epoch, in a
// plain double: exact for every instant within ±285 years of 1970, which is
// far more than any retention window needs.
//
// The parser is hand-written because it sits on the ingest hot path (one call
// per entry) and because Date.parse neither keeps microseconds nor rejects
// impossible dates such as 2026-02-30.

export const EXAMPLE_TIMESTAMP = '2026-11-27T21:50:00.123456Z'

const US_PER_SECOND = 1_000_000
const US_PER_DAY = 86_400 * US_PER_SECOND

const DIGIT_0 = 48
const FRACTION_SCALE = [0, 100_000, 10_000, 1_000, 100, 10, 1]

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil (year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = month > 2 ? month - 3 : month + 9
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

function daysInMonth (year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
    return leap ? 29 : 28
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/** Reads `count` ASCII digits at `at`; returns -1 if any is not a digit. */
function digits (s: string, at: number, count: number): number {
  if (at + count > s.length) return -1
  let value = 0
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - DIGIT_0
    if (d < 0 || d > 9) return -1
    value = value * 10 + d
  }
  return value
}

/**
 * Parses an ISO 8601 / RFC 3339 timestamp into epoch microseconds, or returns
 * NaN when the text is not one.
 *
 * Accepted: `YYYY-MM-DD`, optionally followed by `T` (or `t` or a space) and
 * `HH:MM`, optional `:SS`, optional fraction of 1 to 9 digits after `.` or `,`
 * (digits past the microsecond are dropped), and an optional offset `Z`,
 * `±HH:MM`, `±HHMM` or `±HH`. No offset means UTC. A leap second `:60`
 * reads as `:59.999999`, whatever its fraction.
 */
export function parseTimestamp (s: string): number {
  const n = s.length
  if (n < 10 || n > 64) return NaN
  const year = digits(s, 0, 4)
  const month = digits(s, 5, 2)
  const day = digits(s, 8, 2)
  if (year < 0 || month < 1 || month > 12 || day < 1 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN
  if (day > daysInMonth(year, month)) return NaN

  let us = daysFromCivil(year, month, day) * US_PER_DAY
  if (n === 10) return us

  const sep = s[10]
  if (sep !== 'T' && sep !== 't' && sep !== ' ') return NaN
  const hour = digits(s, 11, 2)
  const minute = digits(s, 14, 2)
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || s.charCodeAt(13) !== 58) return NaN
  us += (hour * 3600 + minute * 60) * US_PER_SECOND

  let i = 16
  if (s.charCodeAt(i) === 58) { // ':' seconds
    const second = digits(s, i + 1, 2)
    // A leap second (RFC 3339 allows :60; an offset can move it to any
    // minute) is kept as the last microsecond of its minute.
    const leap = second === 60
    if (second < 0 || (second > 59 && !leap)) return NaN
    us += leap ? 60 * US_PER_SECOND - 1 : second * US_PER_SECOND
    i += 3
    const c = s.charCodeAt(i)
    if (c === 46 || c === 44) { // '.' or ',' fraction
      i++
      const from = i
      let fraction = 0
      while (i < n) {
        const d = s.charCodeAt(i) - DIGIT_0
        if (d < 0 || d > 9) break
        if (i - from < 6) fraction = fraction * 10 + d
        i++
      }
      const len = i - from
      if (len < 1 || len > 9) return NaN
      if (!leap) us += len >= 6 ? fraction : fraction * FRACTION_SCALE[len]!
    }
  }

  if (i === n) return us
  const c = s.charCodeAt(i)
  if ((c === 90 || c === 122) && i + 1 === n) return us // 'Z' or 'z'
  if (c !== 43 && c !== 45) return NaN // '+' or '-'
  const sign = c === 43 ? 1 : -1
  const oh = digits(s, i + 1, 2)
  let om = 0
  const rest = n - (i + 3)
  if (rest === 3 && s.charCodeAt(i + 3) === 58) om = digits(s, i + 4, 2)
  else if (rest === 2) om = digits(s, i + 3, 2)
  else if (rest !== 0) return NaN
  if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN
  return us - sign * (oh * 3600 + om * 60) * US_PER_SECOND
}

/** A Unix time as a number, in seconds, milliseconds, microseconds or nanoseconds (told apart by size), in µs; NaN when negative or not finite. */
export function unixToMicros (n: number): number {
  if (!Number.isFinite(n) || n < 0) return NaN
  if (n < 1e11) return Math.round(n * 1e6) // seconds, with a fraction (Fluent Bit's float date, Python's time.time())
  if (n < 1e14) return Math.round(n * 1e3) // milliseconds
  if (n < 1e17) return Math.trunc(n) // microseconds
  return Math.trunc(n / 1e3) // nanoseconds
}

/** Whether an ISO 8601 text parseTimestamp reads names its zone (`Z` or an offset); without one it was read as UTC. */
export function hasZone (s: string): boolean {
  return /(?:[zZ]|[+-]\d\d(?::?\d\d)?)$/.test(s.slice(11))
}

/** A span of µs for people, rounded to its smallest unit shown: `45 s`, `12 min`, `2 h 5 min`, `3 d 4 h`. */
export function formatSpan (us: number): string {
  const s = Math.round(Math.abs(us) / US_PER_SECOND)
  if (s < 60) return `${s} s`
  const min = Math.round(s / 60)
  if (min < 24 * 60) return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`
  const h = Math.round(min / 60)
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'))
let cachedDay = NaN
let cachedDayPrefix = ''

/**
 * Formats epoch microseconds as UTC RFC 3339 with six fraction digits. Hot on
 * the query path (once per returned entry): the date part is cached per day,
 * the rest is arithmetic and a lookup table.
 */
export function formatTimestamp (us: number): string {
  const day = Math.floor(us / US_PER_DAY)
  if (day !== cachedDay) {
    // The cache is set only once the prefix is made: a failed call must not leave it half set.
    cachedDayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11) // YYYY-MM-DDT
    cachedDay = day
  }
  const inDay = us - day * US_PER_DAY
  const seconds = Math.floor(inDay / US_PER_SECOND)
  const micros = inDay - seconds * US_PER_SECOND
  const h = Math.floor(seconds / 3600)
  const m = Math.floor(seconds / 60) % 60
  const frac = micros >= 100_000 ? String(micros) : String(micros + 1_000_000).slice(1)
  return `${cachedDayPrefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[seconds % 60]}.${frac}Z`
}

/** Epoch µs that name a date (±100,000,000 days of 1970, Date's range); formatTimestamp throws on others. */
export const isDateUs = (us: number): boolean => Math.abs(us) <= 8.64e18

/** The current time in epoch microseconds (millisecond resolution). */
export function nowUs (): number {
  return Date.now() * 1000
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-3, us: 1, µs: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6, w: 604800e6, y: 31536000e6 }

/** A Prometheus / LogQL duration (`5m`, `1h30m`, `500ms`) in µs; NaN when it is not one. */
export function durationUs (text: string): number {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+$/.test(text)) return NaN
  let total = 0
  for (const [, n, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/g)) total += Number(n) * DURATION_UNITS[unit!]!
  return total
}

/** `now`, `now-15m` or `now+1h` (any duration durationUs reads) as epoch µs from `now`; NaN for anything else. */
export function relativeTime (text: string, now: number): number {
  const m = /^now(?:\s*([+-])\s*(\S+))?$/.exec(text.trim())
  if (m === null) return NaN
  if (m[1] === undefined) return now
  const d = durationUs(m[2]!)
  return m[1] === '-' ? now - d : now + d
}
