import { parseTimestamp, unixToMicros } from '../../core/timestamp.js'
import { describe, fitAttributes, recordProblem, type LogRecord, type Pairs } from '../record.js'
import { flatten } from './otlp-logs.js'
import { TOO_DEEP, nestsDeeper } from '../../core/json-depth.js'
import { UNKNOWN_SERVICE } from './loki-push.js'
import { nanosToMicros } from './protos.js'

// A JSON document in whatever field names its shipper uses (Elasticsearch
// bulk documents, Vector's and Fluent Bit's JSON, Fluent Bit's msgpack
// records) as a record. Which fields hold the service, the time and the
// message is a FieldMap (the defaults below, or a request's _service_field,
// _time_field and _msg_field); every other field becomes an attribute, nested
// objects flattened with dotted keys, fitted to the attribute limits (fitAttributes).

export interface FieldMap {
  /** Candidates in order; the first present (and usable) wins. Dotted names reach into nested objects. */
  readonly service: readonly string[]
  readonly time: readonly string[]
  readonly message: readonly string[]
}

export const DEFAULT_FIELDS: FieldMap = Object.freeze({
  service: Object.freeze(['service', 'service.name', 'app', 'programname', 'syslogtag']),
  time: Object.freeze(['@timestamp', 'timestamp', 'timereported', 'time', 'date']),
  message: Object.freeze(['message', 'msg', 'log', '_msg'])
})

type Doc = Record<string, unknown>

export const isDoc = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)

/** The value at `name`: the key itself, else the path its dots spell through nested objects. */
function lookup (doc: Doc, name: string): unknown {
  const own = doc[name]
  if (own !== undefined || !name.includes('.')) return own
  let at: unknown = doc
  for (const part of name.split('.')) {
    if (!isDoc(at)) return undefined
    at = at[part]
  }
  return at
}

/** A time field's value in µs: RFC 3339 text, or a Unix time as a number or numeric string; NaN when it is neither. */
export function timeValue (v: unknown): number {
  if (typeof v === 'number') return unixToMicros(v)
  if (typeof v !== 'string') return NaN
  const ts = parseTimestamp(v)
  if (!Number.isNaN(ts)) return ts
  // Whole nanoseconds do not fit a double exactly: cut them as text.
  if (/^\d{17,20}$/.test(v)) return nanosToMicros(v)
  return /^\d+(\.\d+)?$/.test(v) ? unixToMicros(Number(v)) : NaN
}

/** A value as text: strings as they are, anything else as its JSON. */
const text = (v: unknown): string => typeof v === 'string' ? v : JSON.stringify(v)

export interface DocContext {
  fields: FieldMap
  /** The service when no service field is present (the bulk action's or path's index); unknown_service when null. */
  fallbackService: string | null
  /** The time when no time field is present (arrival, or the msgpack event's own time). */
  fallbackTime: number
  oldest: number
  newest: number
}

/** A document as a validated record, or what is wrong with it. */
export function docRecord (doc: unknown, ctx: DocContext): LogRecord | string {
  if (!isDoc(doc)) return `each document must be a JSON object; got ${describe(doc)}`
  // Before any walk below: flattening and JSON.stringify recurse.
  if (nestsDeeper(doc)) return `the document ${TOO_DEEP}`
  const { fields } = ctx
  const used = new Set<string>()

  let service: string | null = null
  for (const name of fields.service) {
    const v = lookup(doc, name)
    if ((typeof v === 'string' && v !== '') || typeof v === 'number') {
      service = String(v)
      used.add(name)
      break
    }
  }

  let ts = ctx.fallbackTime
  for (const name of fields.time) {
    const v = lookup(doc, name)
    if (v === undefined || v === null || v === '') continue
    ts = timeValue(v)
    if (Number.isNaN(ts)) return `time field ${JSON.stringify(name)} is ${JSON.stringify(v).slice(0, 64)}: send RFC 3339 (2026-11-27T21:50:00.123456Z) or a Unix time in seconds, milliseconds or nanoseconds`
    used.add(name)
    break
  }

  let message: string | null = null
  for (const name of fields.message) {
    const v = lookup(doc, name)
    if (v === undefined || v === null) continue
    message = text(v)
    used.add(name)
    break
  }
  if (message === null) return `no message field: none of ${fields.message.join(', ')} is present; name the field that holds the message with _msg_field`

  const all = flatten(Object.keys(doc).map((key) => ({ key, value: doc[key] })))
  const rest: Pairs = []
  // A field taken for the entry is not an attribute too, nor (a message given as an object) its parts.
  const prefixes = [...used].map((u) => `${u}.`)
  const taken = (key: string): boolean => used.has(key) || prefixes.some((p) => key.startsWith(p))
  for (let i = 0; i < all.length; i += 2) if (!taken(all[i]!)) rest.push(all[i]!, all[i + 1]!)
  // Other people's field names: fitted to the attribute limits rather than refused.
  const { attributes } = fitAttributes(rest)
  const record: LogRecord = { service: service ?? ctx.fallbackService ?? UNKNOWN_SERVICE, ts, message, labels: null, attributes }
  return recordProblem(record, ctx.oldest, ctx.newest) ?? record
}
