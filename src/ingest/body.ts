import { isUtf8 } from 'node:buffer'
import { BadRequestError, UnsupportedMediaTypeError } from '../core/errors.js'
import { describeJsonError } from './entry.js'

// Turns a POST /logs body into what to validate. A JSON body is one object
// (a single entry) or an array (a batch); an NDJSON body is checked to be
// UTF-8 and passed on as text, one entry per non-blank line.

export type ParsedBody =
  | { kind: 'single', value: unknown }
  | { kind: 'batch', items: unknown[] }
  /** NDJSON bytes (checked to be UTF-8), split and parsed later (see ndjson.ts). */
  | { kind: 'lines', bytes: Buffer }

const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines'])
// The original service read any body as JSON; keep that working.
const LENIENT_JSON_TYPES = new Set(['', 'text/plain'])
// curl -d sends this unless told otherwise (read as JSON when it is JSON), and
// Python's logging.handlers.HTTPHandler sends a form (formats/form-record.ts).
const FORM_TYPE = 'application/x-www-form-urlencoded'

const MSGPACK_TYPES = new Set(['application/msgpack', 'application/x-msgpack'])

export type BodyFormat = 'json' | 'ndjson' | 'msgpack' | 'form'

/** Picks the parser from the Content-Type header, or throws 415. */
export function bodyFormat (contentType: string | undefined): BodyFormat {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase()
  if (type === 'application/json' || type.endsWith('+json') || LENIENT_JSON_TYPES.has(type)) return 'json'
  if (NDJSON_TYPES.has(type)) return 'ndjson'
  if (MSGPACK_TYPES.has(type)) return 'msgpack'
  if (type === FORM_TYPE) return 'form'
  throw new UnsupportedMediaTypeError(
    `content type ${type} is not supported; send application/json (one object or an array of objects), application/x-ndjson (one object per line), application/msgpack (Fluent Bit events) or application/x-www-form-urlencoded (one entry, e.g. Python's HTTPHandler)`
  )
}

/** A form body that is JSON after all (curl -d '{"service": …}'): the first byte that is not whitespace opens an object or array. */
export function formIsJson (body: Buffer): boolean {
  for (const c of body) {
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return c === 123 || c === 91
  }
  return false
}

export function parseBody (body: Buffer, format: Exclude<BodyFormat, 'form'>): ParsedBody {
  if (body.length === 0) throw new BadRequestError('request body is empty; send a JSON object with service, timestamp and message')
  if (!isUtf8(body)) throw new BadRequestError('request body is not valid UTF-8')
  if (format === 'ndjson') return { kind: 'lines', bytes: body }
  const text = body.toString('utf8')

  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON (${describeJsonError(err)}); send a JSON object or an array of objects`)
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new BadRequestError('request body is an empty array; send at least one entry')
    return { kind: 'batch', items: value }
  }
  if (typeof value !== 'object' || value === null) {
    throw new BadRequestError('request body must be a JSON object with service, timestamp and message, or an array of such objects')
  }
  return { kind: 'single', value }
}
