// Durations and sizes as settings and messages write them (`90s`, `7d`, `16mb`).

export const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
export const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

/** Parses `1500ms`, `90s`, `15m`, `1h`, `7d`, `2w` (a decimal number and a unit) into ms; NaN if it is not one. */
export function parseDuration (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim().toLowerCase())
  if (m === null) return NaN
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!)
}

/** Parses `512kb`, `16mb`, `1gb` or a plain byte count into bytes; NaN if it is not one. */
export function parseSize (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(b|kb|mb|gb)?$/.exec(text.trim().toLowerCase())
  if (m === null) return NaN
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2] ?? 'b']!)
}
