// The number formats LogQL's label filters and unwrap read label values in,
// as Loki reads them: Go's strconv.ParseFloat, time.ParseDuration and
// go-humanize's ParseBytes. Each returns null for text that is not one.

const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i

/** A decimal number (`12`, `-1.5e3`, `Inf`, `NaN`), as strconv.ParseFloat reads one; no hex, no spaces. */
export function goFloat (text: string): number | null {
  if (!FLOAT.test(text)) return null
  const lower = text.toLowerCase()
  if (lower.endsWith('nan')) return Number.NaN
  if (lower.includes('inf')) return lower.startsWith('-') ? -Infinity : Infinity
  return Number(text)
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }
const DURATION = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*$/
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g

/** A Go duration (`250ms`, `1h30m`, `-1.5s`, `0`) in nanoseconds, as time.ParseDuration reads one. */
export function goDurationNs (text: string): number | null {
  if (text === '0' || text === '+0' || text === '-0') return 0
  if (!DURATION.test(text)) return null
  let ns = 0
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) ns += Number(amount) * DURATION_UNITS[unit!]!
  return text.startsWith('-') ? -ns : ns
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1e18,
  ei: 1024 ** 6,
  eib: 1024 ** 6
}
const BYTES = /^([\d.,]+)\s*([a-z]*)\s*$/i

/** A byte size (`42`, `2.5KiB`, `1 MB`, `10k`, `1,024`) in bytes, as go-humanize's ParseBytes reads one. */
export function humanBytes (text: string): number | null {
  const m = BYTES.exec(text)
  if (m === null) return null
  const n = goFloat(m[1]!.replaceAll(',', ''))
  const factor = BYTE_UNITS[m[2]!.toLowerCase()]
  return n === null || factor === undefined ? null : n * factor
}
