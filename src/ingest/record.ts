// The one record every ingest format produces: a service (the stream's
// owner and the shard key), the stream's other labels, a timestamp, a
// message, and per-entry attributes. Labels and attributes travel as flat
// pairs [k0, v0, k1, v1, ...], which clone and store cheaply.

export const MAX_SERVICE_LENGTH = 256
export const MAX_MESSAGE_BYTES = 256 * 1024
export const MAX_ATTRIBUTES = 64
export const MAX_ATTRIBUTE_KEY = 128
export const MAX_ATTRIBUTE_VALUE = 8 * 1024

/** Flat key/value pairs. */
export type Pairs = string[]

export interface LogRecord {
  service: string
  /** Epoch microseconds. */
  ts: number
  message: string
  /** Stream labels besides service, sorted by key; null when there are none. */
  labels: Pairs | null
  /** Per-entry attributes; null when there are none. */
  attributes: Pairs | null
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

/**
 * Validates an `attributes` object into pairs (null when empty), or returns
 * what is wrong. Strings are kept; a number or boolean is kept as its JSON text.
 */
export function checkAttributes (value: unknown): Pairs | null | string {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) return `attributes must be an object of string values; got ${describe(value)}`
  const pairs: Pairs = []
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key]
    if (pairs.length >= 2 * MAX_ATTRIBUTES) return `attributes has more than ${MAX_ATTRIBUTES} keys; send at most ${MAX_ATTRIBUTES}`
    if (key.length === 0) return 'attributes has an empty key; every key needs a name'
    if (key.length > MAX_ATTRIBUTE_KEY) return `attribute key ${JSON.stringify(key.slice(0, 32))}… is ${key.length} characters long; the limit is ${MAX_ATTRIBUTE_KEY}`
    let text: string
    if (typeof v === 'string') text = v
    else if (typeof v === 'number' || typeof v === 'boolean') text = JSON.stringify(v)
    else return `attribute ${JSON.stringify(key)} must be a string, number or boolean; got ${describe(v)}`
    if (text.length > MAX_ATTRIBUTE_VALUE && Buffer.byteLength(text) > MAX_ATTRIBUTE_VALUE) {
      return `attribute ${JSON.stringify(key)} is larger than ${MAX_ATTRIBUTE_VALUE / 1024} KiB; shorten it`
    }
    pairs.push(key, text)
  }
  return pairs.length === 0 ? null : pairs
}
