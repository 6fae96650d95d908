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

/** What a JSON value is, for error messages: 'null', 'an array', 'a number', ... */
export function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * What is wrong with a service name, or null when it is fine. Control
 * characters (ANSI escapes included) and lone surrogates are refused, so every
 * stored name prints safely and can be asked for by name in a URL.
 */
export function serviceProblem (service: string): string | null {
  if (service.length === 0) return 'service must not be empty'
  if (service.length > MAX_SERVICE_LENGTH) return `service is ${service.length} characters long; the limit is ${MAX_SERVICE_LENGTH}`
  const control = CONTROL.exec(service)
  if (control !== null) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, '0')
    return `service contains the control character U+${code} at position ${control.index}; use printable characters only`
  }
  const lone = LONE_SURROGATE.exec(service)
  if (lone !== null) return `service contains a lone surrogate (U+${lone[0].charCodeAt(0).toString(16)}) at position ${lone.index}; send valid Unicode text`
  return null
}

/** What is wrong with a message, or null. */
export function messageProblem (message: string): string | null {
  // Cheap length check first: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (message.length * 3 > MAX_MESSAGE_BYTES && Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
    return `message is larger than ${MAX_MESSAGE_BYTES / 1024} KiB; split it or shorten it`
  }
  return null
}

/** What is wrong with an attribute's key, or null. */
function keyProblem (key: string): string | null {
  if (key.length === 0) return 'attributes has an empty key; every key needs a name'
  if (key.length > MAX_ATTRIBUTE_KEY) return `attribute key ${JSON.stringify(key.slice(0, 32))}… is ${key.length} characters long; the limit is ${MAX_ATTRIBUTE_KEY}`
  return null
}

/** What is wrong with an attribute's value (as text), or null. */
function valueProblem (key: string, text: string): string | null {
  if (text.length > MAX_ATTRIBUTE_VALUE && Buffer.byteLength(text) > MAX_ATTRIBUTE_VALUE) {
    return `attribute ${JSON.stringify(key)} is larger than ${MAX_ATTRIBUTE_VALUE / 1024} KiB; shorten it`
  }
  return null
}

const TOO_MANY_ATTRIBUTES = `attributes has more than ${MAX_ATTRIBUTES} keys; send at most ${MAX_ATTRIBUTES}`

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
    if (pairs.length >= 2 * MAX_ATTRIBUTES) return TOO_MANY_ATTRIBUTES
    const badKey = keyProblem(key)
    if (badKey !== null) return badKey
    let text: string
    if (typeof v === 'string') text = v
    else if (typeof v === 'number' || typeof v === 'boolean') text = JSON.stringify(v)
    else return `attribute ${JSON.stringify(key)} must be a string, number or boolean; got ${describe(v)}`
    const badValue = valueProblem(key, text)
    if (badValue !== null) return badValue
    pairs.push(key, text)
  }
  return pairs.length === 0 ? null : pairs
}

/** Cuts text to at most `max` UTF-8 bytes, never inside a character. */
export function cutUtf8 (text: string, max: number): string {
  if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return text
  let cut = Buffer.from(text).subarray(0, max).toString('utf8')
  // A character cut in half decodes as U+FFFD at the end: drop it.
  if (cut.endsWith('\ufffd')) cut = cut.slice(0, -1)
  return cut
}

/** The attribute fitAttributes adds when it left something out or cut a value. */
export const TRUNCATED_ATTRIBUTE = '_truncated'

/**
 * Fits attributes from a source that cannot be told no (syslog, other
 * shippers' field names) to the limits instead of refusing the entry: the
 * first of a repeated key wins, keys that are empty or too long are left
 * out, values are cut at 8 KiB, and past 63 keys the rest are left out; then
 * `_truncated: "attributes"` says so. `changed` says whether that happened.
 */
export function fitAttributes (pairs: Pairs): { attributes: Pairs | null, changed: boolean } {
  const seen = new Set<string>()
  const out: Pairs = []
  let changed = false
  for (let i = 0; i < pairs.length; i += 2) {
    const key = pairs[i]!
    if (seen.has(key)) {
      changed = true
      continue
    }
    if (keyProblem(key) !== null || out.length >= 2 * (MAX_ATTRIBUTES - 1)) {
      changed = true
      continue
    }
    seen.add(key)
    const value = cutUtf8(pairs[i + 1]!, MAX_ATTRIBUTE_VALUE)
    if (value.length !== pairs[i + 1]!.length) changed = true
    out.push(key, value)
  }
  if (changed) out.push(TRUNCATED_ATTRIBUTE, 'attributes')
  return { attributes: out.length === 0 ? null : out, changed }
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
  const service = serviceProblem(r.service)
  if (service !== null) return service
  if (!Number.isFinite(r.ts)) return 'timestamp is not a number'
  if (r.ts < oldest) return 'timestamp is older than the retention window'
  if (r.ts > newest) return 'timestamp is too far in the future (check the sender\'s clock)'
  const message = messageProblem(r.message)
  if (message !== null) return message
  if (r.labels !== null) {
    if (r.labels.length > 2 * MAX_LABELS) return `a stream may have at most ${MAX_LABELS} labels`
    for (let i = 0; i < r.labels.length; i += 2) {
      // As long as an attribute key may be: a 10 KB name was taken, and kept in every stream key and answer.
      if (r.labels[i]!.length > MAX_ATTRIBUTE_KEY) return `label name ${JSON.stringify(r.labels[i]!.slice(0, 32))}… is ${r.labels[i]!.length} characters long; the limit is ${MAX_ATTRIBUTE_KEY}`
      if (!LABEL_NAME.test(r.labels[i]!)) return `label name ${JSON.stringify(r.labels[i]!.slice(0, 64))} is not valid: use letters, digits and _, not starting with a digit`
      if (r.labels[i + 1]!.length > 1024) return `label ${r.labels[i]} is longer than 1024 characters`
    }
  }
  if (r.attributes !== null) {
    if (r.attributes.length > 2 * MAX_ATTRIBUTES) return TOO_MANY_ATTRIBUTES
    for (let i = 0; i < r.attributes.length; i += 2) {
      const problem = keyProblem(r.attributes[i]!) ?? valueProblem(r.attributes[i]!, r.attributes[i + 1]!)
      if (problem !== null) return problem
    }
  }
  return null
}

/**
 * The key of a stream: its service and labels. Both may hold any character
 * but NUL, so NUL separates them.
 */
export function streamKey (service: string, labels: Pairs): string {
  return labels.length === 0 ? service : `${service}\u0000${labels.join('\u0000')}`
}

/** Sorts flat pairs by key (stream labels are kept sorted, so equal label sets make one stream). */
export function sortPairs (pairs: Pairs): Pairs {
  const idx = Array.from({ length: pairs.length / 2 }, (_, i) => i)
  idx.sort((a, b) => (pairs[2 * a]! < pairs[2 * b]! ? -1 : pairs[2 * a]! > pairs[2 * b]! ? 1 : 0))
  return idx.flatMap((i) => [pairs[2 * i]!, pairs[2 * i + 1]!])
}
