import type { IncomingHttpHeaders } from 'node:http'
import { BadRequestError } from '../core/errors.js'
import { DEFAULT_FIELDS, type FieldMap } from '../ingest/formats/json-doc.js'
import type { QueryValues } from './query-string.js'

// Which fields of a free-form JSON document hold the service, the time and
// the message: query parameters _service_field, _time_field, _msg_field, or
// the headers Logagg-Service-Field, Logagg-Time-Field, Logagg-Msg-Field (for
// shippers that can set headers but not the URL). Each is a comma list, the
// first field present wins; the parameter wins over the header.

const PARAMS = [
  ['service', '_service_field', 'logagg-service-field'],
  ['time', '_time_field', 'logagg-time-field'],
  ['message', '_msg_field', 'logagg-msg-field']
] as const

const MAX_FIELDS = 16

function names (value: string | string[], where: string): string[] {
  const list = (Array.isArray(value) ? value.join(',') : value).split(',').map((n) => n.trim()).filter((n) => n !== '')
  if (list.length === 0 || list.length > MAX_FIELDS || list.some((n) => n.length > 256)) {
    throw new BadRequestError(`${where} must be a comma list of 1 to ${MAX_FIELDS} field names, such as message,log`)
  }
  return list
}

/**
 * The field map a request asks for, the defaults filling what it does not
 * name; null when it names none (POST /logs then keeps its strict contract).
 */
export function requestFields (query: QueryValues | null, headers: IncomingHttpHeaders): FieldMap | null {
  let out: { -readonly [K in keyof FieldMap]: FieldMap[K] } | null = null
  for (const [key, param, header] of PARAMS) {
    const fromQuery = query?.[param]
    const fromHeader = headers[header]
    const value = fromQuery ?? fromHeader
    if (value === undefined) continue
    out ??= { ...DEFAULT_FIELDS }
    out[key] = names(value, fromQuery !== undefined ? param : header)
  }
  return out
}
