import { MalformedBodyError } from '../../core/errors.js'
import { MAX_JSON_DEPTH, TOO_DEEP } from '../../core/json-depth.js'
import { recordProblem, sortPairs, type LogRecord, type Pairs } from '../record.js'
import protobuf from 'protobufjs'
import { ExportLogsServiceRequest, Resource, ResourceLogs, int64, nanosToMicros, type Int64 } from './protos.js'
import { UNKNOWN_SERVICE, type Mapped } from './loki-push.js'
import { checkMessage } from './proto-check.js'
import type { StreamSpan } from '../spans.js'

const { Reader } = protobuf

// OTLP logs (ExportLogsServiceRequest) to records. Both encodings meet in one
// shape with lowerCamelCase keys: the decoded protobuf message (64-bit
// integers as Longs, ids as bytes, unset fields as prototype defaults) and the
// JSON mapping (64-bit integers as strings or numbers, ids as hex). Unknown
// fields are ignored.

const malformed = (what: string): Error => new MalformedBodyError(`the OTLP logs request is not valid: ${what}`)

/** Longest stream label value kept from a resource attribute; longer ones are cut (label values are at most 1 KiB). */
const MAX_LABEL_VALUE = 1024

export function decodeOtlpProto (body: Buffer): unknown {
  try {
    // The decoded message as it is (no toObject copy): its unset fields are
    // prototype defaults, so the mapping below reads only own, non-null fields.
    return ExportLogsServiceRequest.decode(body)
  } catch (err) {
    throw malformed(`the protobuf does not decode as ExportLogsServiceRequest (${(err as Error).message})`)
  }
}

export function decodeOtlpJson (body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw malformed(`the JSON does not parse (${(err as Error).message})`)
  }
}

type Obj = Record<string, unknown>
/** Where a value is, for error messages; a function when building the text would cost on every record. */
type Where = string | (() => string)
const here = (where: Where): string => typeof where === 'string' ? where : where()
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)

function list (v: unknown, where: Where): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw malformed(`${here(where)} must be an array`)
  return v
}

function obj (v: unknown, where: Where): Obj {
  if (v === undefined || v === null) return {}
  if (!isObj(v)) throw malformed(`${here(where)} must be an object`)
  return v
}

/** Whether `o` holds `key` itself (not as a decoded message's prototype default) with a value. */
const has = (o: Obj, key: string): boolean => Object.hasOwn(o, key) && o[key] !== undefined && o[key] !== null

/** An AnyValue as a plain value: string, number, boolean, base64 bytes, array, object, or null when empty; at most MAX_JSON_DEPTH levels. */
export function anyValue (v: unknown, where: Where, depth = 1): unknown {
  if (depth > MAX_JSON_DEPTH) throw malformed(`${here(where)} ${TOO_DEEP}`)
  const o = obj(v, where)
  if (has(o, 'stringValue')) return String(o.stringValue)
  if (has(o, 'boolValue')) return o.boolValue === true || o.boolValue === 'true'
  if (has(o, 'intValue')) {
    const n = int64(o.intValue as Int64)
    return Number.isSafeInteger(n) ? n : String(o.intValue)
  }
  if (has(o, 'doubleValue')) return Number(o.doubleValue)
  if (has(o, 'bytesValue')) return o.bytesValue instanceof Uint8Array ? Buffer.from(o.bytesValue).toString('base64') : String(o.bytesValue)
  if (has(o, 'arrayValue')) return list(obj(o.arrayValue, where).values, () => `${here(where)}.arrayValue.values`).map((x, i) => anyValue(x, () => `${here(where)}[${i}]`, depth + 1))
  if (has(o, 'kvlistValue')) {
    const out: Obj = {}
    for (const kv of keyValues(obj(o.kvlistValue, where).values, () => `${here(where)}.kvlistValue.values`, depth + 1)) out[kv.key] = kv.value
    return out
  }
  return null
}

function keyValues (v: unknown, where: Where, depth = 1): Array<{ key: string, value: unknown }> {
  return list(v, where).map((kv, i) => {
    const o = obj(kv, () => `${here(where)}[${i}]`)
    if (typeof o.key !== 'string') throw malformed(`${here(where)}[${i}].key must be a string`)
    return { key: o.key, value: anyValue(o.value, () => `${here(where)}[${i}].value`, depth) }
  })
}

/** Flattens attributes into pairs: nested maps with dotted keys, strings as they are, anything else as its JSON. */
export function flatten (kvs: ReadonlyArray<{ key: string, value: unknown }>, prefix = '', out: Pairs = []): Pairs {
  for (const { key, value } of kvs) {
    const name = prefix + key
    if (isObj(value)) flatten(Object.entries(value).map(([k, v]) => ({ key: k, value: v })), `${name}.`, out)
    else out.push(name, typeof value === 'string' ? value : value === null ? '' : JSON.stringify(value))
  }
  return out
}

/** A resource attribute name as a label name: anything but letters, digits and _ becomes _. */
export const labelName = (key: string): string => {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_')
  return /^[0-9]/.test(name) ? `_${name}` : name
}

const hexId = (v: unknown): string => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'string' ? v.toLowerCase() : ''
const isZero = (v: unknown): boolean => v === undefined || v === null || v === 0 || v === '0' || v === '' ||
  (typeof v === 'object' && (v as { low?: unknown }).low === 0 && (v as { high?: unknown }).high === 0)

/** A resource's service (its service.name attribute, else unknown_service) and stream labels (its other attributes, as label names). */
function resourceIdentity (resourceLogs: Obj, where: string): { service: string, labels: Pairs | null } {
  const attrs = flatten(keyValues(obj(resourceLogs.resource, `${where}.resource`).attributes, `${where}.resource.attributes`))
  let service = UNKNOWN_SERVICE
  const seen = new Set<string>()
  const rest: Pairs = []
  for (let k = 0; k < attrs.length; k += 2) {
    if (attrs[k] === 'service.name') {
      if (attrs[k + 1] !== '') service = attrs[k + 1]!
      continue
    }
    const name = labelName(attrs[k]!)
    if (seen.has(name)) continue
    seen.add(name)
    rest.push(name, attrs[k + 1]!.slice(0, MAX_LABEL_VALUE))
  }
  return { service, labels: rest.length === 0 ? null : sortPairs(rest) }
}

/**
 * Each log record of one ResourceLogs (the request's resourceLogs[ordinal])
 * in turn: `visit` gets the record, or null and what is wrong with it (built
 * only when called); returns how many there were.
 */
export function resourceRecords (rl: unknown, ordinal: number, arrival: number, oldest: number, newest: number, visit: (record: LogRecord | null, problem: () => string) => void): number {
  const where = `resourceLogs[${ordinal}]`
  const resourceLogs = obj(rl, where)
  const { service, labels } = resourceIdentity(resourceLogs, where)
  let total = 0
  list(resourceLogs.scopeLogs, `${where}.scopeLogs`).forEach((sl, j) => {
    list(obj(sl, `${where}.scopeLogs[${j}]`).logRecords, `${where}.scopeLogs[${j}].logRecords`).forEach((lr, k) => {
      // Where the record is, for error messages: built only when one is needed.
      const at = (): string => `${where}.scopeLogs[${j}].logRecords[${k}]`
      const r = obj(lr, at)
      total++
      const body = anyValue(r.body, () => `${at()}.body`)
      const attributes = flatten(keyValues(r.attributes, () => `${at()}.attributes`))
      if (typeof r.severityText === 'string' && r.severityText !== '') attributes.push('severity_text', r.severityText)
      if (!isZero(r.severityNumber)) attributes.push('severity_number', String(r.severityNumber))
      const traceId = hexId(r.traceId)
      if (traceId !== '') attributes.push('trace_id', traceId)
      const spanId = hexId(r.spanId)
      if (spanId !== '') attributes.push('span_id', spanId)
      const time = !isZero(r.timeUnixNano) ? r.timeUnixNano : r.observedTimeUnixNano
      const ts = isZero(time) ? arrival : nanosToMicros(time as Int64)
      const record: LogRecord = {
        service,
        ts,
        message: typeof body === 'string' ? body : body === null ? '' : JSON.stringify(body),
        labels,
        attributes: attributes.length === 0 ? null : attributes
      }
      const problem = recordProblem(record, oldest, newest)
      if (problem === null) visit(record, () => '')
      else visit(null, () => `${at()}: ${problem}`)
    })
  })
  return total
}

/** Every log record of the request as a record, or what is wrong with it. */
export function otlpRecords (request: unknown, arrival: number, oldest: number, newest: number, maxListed = 10): Mapped & { total: number } {
  const records: LogRecord[] = []
  const problems: string[] = []
  let problemCount = 0
  let total = 0
  const req = obj(request, 'the request')
  list(req.resourceLogs, 'resourceLogs').forEach((rl, i) => {
    total += resourceRecords(rl, i, arrival, oldest, newest, (record, problem) => {
      if (record !== null) records.push(record)
      else if (problemCount++ < maxListed) problems.push(problem())
    })
  })
  return { records, problems, problemCount, total }
}

/**
 * How deep messages may nest inside a ResourceLogs: as deep as protobufjs
 * decodes them inside the request (Reader.recursionLimit), one level less,
 * so every resource the front lets through decodes on its shard.
 */
const RESOURCE_DEPTH = protobuf.Reader.recursionLimit - 1

/**
 * The ResourceLogs of an ExportLogsServiceRequest body, each checked down to
 * every field (proto-check.ts), with its service and how many log records
 * it holds: what the front needs to send each one's bytes to the shard of
 * its service (decodeResourceLogs there). Throws MalformedBodyError for a
 * body that does not decode.
 */
export function otlpSpans (body: Uint8Array): StreamSpan[] {
  const spans: StreamSpan[] = []
  try {
    const r = Reader.create(body)
    while (r.pos < r.len) {
      const tag = r.uint32()
      if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
        r.skipType(tag & 7)
        continue
      }
      const length = r.uint32()
      const start = r.pos
      const end = start + length
      checkMessage(ResourceLogs, r, end, RESOURCE_DEPTH)
      // Checked: now its resource's service and its records' count.
      r.pos = start
      let service = UNKNOWN_SERVICE
      let entries = 0
      while (r.pos < end) {
        const t = r.uint32()
        if (t >>> 3 === 1 && (t & 7) === 2) {
          const at = r.uint32() + r.pos
          const resource = Resource.decode(body.subarray(r.pos, at))
          service = resourceIdentity({ resource }, `resourceLogs[${spans.length}]`).service
          r.pos = at
        } else if (t >>> 3 === 2 && (t & 7) === 2) {
          const stop = r.uint32() + r.pos
          while (r.pos < stop) {
            const u = r.uint32()
            if (u >>> 3 === 2 && (u & 7) === 2) entries++
            r.skipType(u & 7)
          }
        } else {
          r.skipType(t & 7)
        }
      }
      spans.push({ start, end, service, entries, ordinal: spans.length })
    }
  } catch (err) {
    if (err instanceof MalformedBodyError) throw err
    throw malformed(`the protobuf does not decode as ExportLogsServiceRequest (${(err as Error).message})`)
  }
  return spans
}

/** The ResourceLogs at bytes[start, end), which otlpSpans() checked (a shard decodes its resources so). */
export function decodeResourceLogs (bytes: Uint8Array, start: number, end: number): unknown {
  return ResourceLogs.decode(bytes.subarray(start, end))
}
