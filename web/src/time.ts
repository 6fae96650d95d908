// Time ranges as the URL keeps them: relative (`now`, `now-15m`) or RFC 3339.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** Milliseconds of a duration such as 15m or 1h30m; NaN when it is not one. */
export function durationMs (text: string): number {
  const parts = /^((\d+(\.\d+)?)(ms|s|m|h|d|w))+$/.test(text) ? text.match(/\d+(\.\d+)?(ms|s|m|h|d|w)/g) : null
  if (parts === null) return NaN
  let ms = 0
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(p)
    if (m === null) return NaN
    ms += Number(m[1]) * UNIT_MS[m[2]!]!
  }
  return ms
}

/** Epoch ms of `now`, `now-15m`, `now+1h` or an RFC 3339 time; NaN when it is none of them. */
export function resolveTime (text: string, now: number): number {
  const t = text.trim()
  if (t === 'now') return now
  const rel = /^now([+-])(.+)$/.exec(t)
  if (rel !== null) {
    const d = durationMs(rel[2]!)
    return rel[1] === '-' ? now - d : now + d
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) return NaN
  return Date.parse(t)
}

/** Epoch ms as Loki's nanosecond integer text. */
export const toNs = (ms: number): string => `${Math.round(ms * 1000)}000`

/** ns text (Loki) → epoch ms. */
export const nsToMs = (ns: string): number => Number(ns.slice(0, -6) || '0') + Number(`0.${ns.slice(-6).padStart(6, '0')}`)

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** A timestamp for a row: `2026-12-04 18:06:07.123456` in UTC or local time (µs from the ns text). */
export function formatTs (ns: string, utc: boolean): string {
  const ms = Math.floor(Number(ns.slice(0, -6) || '0'))
  const micros = ns.length > 3 ? ns.slice(-9, -3).padStart(6, '0') : '000000'
  const d = new Date(ms)
  const [y, mo, da, h, mi, s] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]
  return `${y}-${pad(mo)}-${pad(da)} ${pad(h)}:${pad(mi)}:${pad(s)}.${micros}`
}

/** RFC 3339 of epoch ms, in UTC (what the URL keeps for an absolute range). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString()
