import { InvalidArgumentError } from 'commander'

// The filters `query` and `tail` share, as GET /logs and GET /logs/tail take
// them. Times are passed through unchanged: the server reads ISO 8601 and
// relative times (now-15m) and durations (since=15m) alike.

export interface FilterOptions {
  service?: string[]
  since?: string
  start?: string
  end?: string
  contains?: string
  regex?: string
  attr?: string[]
}

/** commander parser for --service: repeatable, each a comma list. */
export function collectServices (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')]
}

/** commander parser for --attr name=value: repeatable. */
export function collectAttrs (value: string, previous: string[] | undefined): string[] {
  const eq = value.indexOf('=')
  if (eq <= 0) throw new InvalidArgumentError('give it as name=value')
  return [...(previous ?? []), value]
}

/** commander parser for a whole number from `min` to `max`. */
export const wholeNumber = (min: number, max: number) => (value: string): number => {
  const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN
  if (!(n >= min && n <= max)) throw new InvalidArgumentError(`give a whole number from ${min} to ${max}`)
  return n
}

export function filterParams (o: FilterOptions): URLSearchParams {
  const params = new URLSearchParams()
  for (const s of o.service ?? []) params.append('service', s)
  if (o.since !== undefined) params.set('since', o.since)
  if (o.start !== undefined) params.set('start', o.start)
  if (o.end !== undefined) params.set('end', o.end)
  if (o.contains !== undefined) params.set('contains', o.contains)
  if (o.regex !== undefined) params.set('regex', o.regex)
  for (const a of o.attr ?? []) {
    const eq = a.indexOf('=')
    params.append(`attr.${a.slice(0, eq)}`, a.slice(eq + 1))
  }
  return params
}
