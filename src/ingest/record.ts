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

/** Label names as Loki and Prometheus accept them. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
export const MAX_LABELS = 32

/**
 * Checks a record built by a protocol decoder against the same limits as
 * POST /logs (service, message size, attribute limits, the time window) and
 * its labels (at most 32, Prometheus-style names, values of at most 1 KiB).
 * Returns null when it is good, or what is wrong.
 */
export function recordProblem (r: LogRecord, oldest: number, newest: number): string | null {
  if (r.service.length === 0) return 'service must not be empty'
  if (r.service.length > MAX_SERVICE_LENGTH) return `service is ${r.service.length} characters long; the limit is ${MAX_SERVICE_LENGTH}`
  if (!Number.isFinite(r.ts)) return 'timestamp is not a number'
  if (r.ts < oldest) return 'timestamp is older than the retention window'
  if (r.ts > newest) return 'timestamp is too far in the future (check the sender\'s clock)'
  if (r.message.length * 3 > MAX_MESSAGE_BYTES && Buffer.byteLength(r.message) > MAX_MESSAGE_BYTES) return `message is larger than ${MAX_MESSAGE_BYTES / 1024} KiB`
  if (r.labels !== null) {
    if (r.labels.length > 2 * MAX_LABELS) return `a stream may have at most ${MAX_LABELS} labels`
    for (let i = 0; i < r.labels.length; i += 2) {
      if (!LABEL_NAME.test(r.labels[i]!)) return `label name ${JSON.stringify(r.labels[i]!.slice(0, 64))} is not valid: use letters, digits and _, not starting with a digit`
      if (r.labels[i + 1]!.length > 1024) return `label ${r.labels[i]} is longer than 1024 characters`
    }
  }
  if (r.attributes !== null) {
    if (r.attributes.length > 2 * MAX_ATTRIBUTES) return `more than ${MAX_ATTRIBUTES} attributes; send at most ${MAX_ATTRIBUTES}`
    for (let i = 0; i < r.attributes.length; i += 2) {
      const key = r.attributes[i]!
      if (key.length === 0 || key.length > MAX_ATTRIBUTE_KEY) return `attribute key ${JSON.stringify(key.slice(0, 32))} must be 1 to ${MAX_ATTRIBUTE_KEY} characters`
      if (r.attributes[i + 1]!.length > MAX_ATTRIBUTE_VALUE && Buffer.byteLength(r.attributes[i + 1]!) > MAX_ATTRIBUTE_VALUE) return `attribute ${JSON.stringify(key)} is larger than ${MAX_ATTRIBUTE_VALUE / 1024} KiB`
    }
  }
  return null
}

/** Sorts flat pairs by key (stream labels are kept sorted, so equal label sets make one stream). */
export function sortPairs (pairs: Pairs): Pairs {
  const idx = Array.from({ length: pairs.length / 2 }, (_, i) => i)
  idx.sort((a, b) => (pairs[2 * a]! < pairs[2 * b]! ? -1 : pairs[2 * a]! > pairs[2 * b]! ? 1 : 0))
  return idx.flatMap((i) => [pairs[2 * i]!, pairs[2 * i + 1]!])
}
