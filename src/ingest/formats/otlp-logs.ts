import { MalformedBodyError } from '../../errors.js'
import { recordProblem, sortPairs, type LogRecord, type Pairs } from '../record.js'
import { ExportLogsServiceRequest, nanosToMicros, type Int64 } from './protos.js'
import { UNKNOWN_SERVICE, type Mapped } from './loki-push.js'

// OTLP logs (ExportLogsServiceRequest) to records. Both encodings meet in one
// plain shape: the protobuf is decoded and turned into an object with
// lowerCamelCase keys (64-bit integers as strings, ids as bytes); the JSON
// mapping already is that object (ids as hex). Unknown fields are ignored.

const malformed = (what: string): Error => new MalformedBodyError(`the OTLP logs request is not valid: ${what}`)

/** Longest stream label value kept from a resource attribute; longer ones are cut (label values are at most 1 KiB). */
const MAX_LABEL_VALUE = 1024

export function decodeOtlpProto (body: Buffer): unknown {
  try {
    const msg = ExportLogsServiceRequest.decode(body)
    return ExportLogsServiceRequest.toObject(msg, { longs: String, enums: Number })
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
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)

function list (v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw malformed(`${where} must be an array`)
  return v
}

function obj (v: unknown, where: string): Obj {
  if (v === undefined || v === null) return {}
  if (!isObj(v)) throw malformed(`${where} must be an object`)
  return v
}

/** An AnyValue as a plain value: string, number, boolean, base64 bytes, array, object, or null when empty. */
export function anyValue (v: unknown, where: string): unknown {
  const o = obj(v, where)
  if (o.stringValue !== undefined && o.stringValue !== null) return String(o.stringValue)
  if (o.boolValue !== undefined && o.boolValue !== null) return o.boolValue === true || o.boolValue === 'true'
  if (o.intValue !== undefined && o.intValue !== null) {
    const n = Number(o.intValue)
    return Number.isSafeInteger(n) ? n : String(o.intValue)
  }
  if (o.doubleValue !== undefined && o.doubleValue !== null) return Number(o.doubleValue)
  if (o.bytesValue !== undefined && o.bytesValue !== null) return o.bytesValue instanceof Uint8Array ? Buffer.from(o.bytesValue).toString('base64') : String(o.bytesValue)
  if (o.arrayValue !== undefined && o.arrayValue !== null) return list(obj(o.arrayValue, where).values, `${where}.arrayValue.values`).map((x, i) => anyValue(x, `${where}[${i}]`))
  if (o.kvlistValue !== undefined && o.kvlistValue !== null) {
    const out: Obj = {}
    for (const kv of keyValues(obj(o.kvlistValue, where).values, `${where}.kvlistValue.values`)) out[kv.key] = kv.value
    return out
  }
  return null
}

function keyValues (v: unknown, where: string): Array<{ key: string, value: unknown }> {
  return list(v, where).map((kv, i) => {
    const o = obj(kv, `${where}[${i}]`)
    if (typeof o.key !== 'string') throw malformed(`${where}[${i}].key must be a string`)
    return { key: o.key, value: anyValue(o.value, `${where}[${i}].value`) }
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
const isZero = (v: unknown): boolean => v === undefined || v === null || v === 0 || v === '0' || v === ''

/** Every log record of the request as a record, or what is wrong with it. */
export function otlpRecords (request: unknown, arrival: number, oldest: number, newest: number, maxListed = 10): Mapped & { total: number } {
  const records: LogRecord[] = []
  const problems: string[] = []
  let problemCount = 0
  let total = 0
  const req = obj(request, 'the request')
  list(req.resourceLogs, 'resourceLogs').forEach((rl, i) => {
    const where = `resourceLogs[${i}]`
    const resourceLogs = obj(rl, where)
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
    const labels = rest.length === 0 ? null : sortPairs(rest)
    list(resourceLogs.scopeLogs, `${where}.scopeLogs`).forEach((sl, j) => {
      list(obj(sl, `${where}.scopeLogs[${j}]`).logRecords, `${where}.scopeLogs[${j}].logRecords`).forEach((lr, k) => {
        const at = `${where}.scopeLogs[${j}].logRecords[${k}]`
        const r = obj(lr, at)
        total++
        const body = anyValue(r.body, `${at}.body`)
        const attributes = flatten(keyValues(r.attributes, `${at}.attributes`))
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
        if (problem === null) records.push(record)
        else if (problemCount++ < maxListed) problems.push(`${at}: ${problem}`)
      })
    })
  })
  return { records, problems, problemCount, total }
}
