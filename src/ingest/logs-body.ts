import { isUtf8 } from 'node:buffer'
import { BadRequestError } from '../core/errors.js'
import type { Rejected } from './batch.js'
import { formIsJson, parseBody, type BodyFormat } from './body.js'
import { CheckedRecords, decodedRecords, type Decoded } from './decoded.js'
import { decodeDocuments } from './documents.js'
import { checkEntry, type Window } from './entry.js'
import { formEntry } from './formats/form-record.js'
import { DEFAULT_FIELDS, type FieldMap } from './formats/json-doc.js'
import { scanArray, SCAN_ABOVE, startsArray } from './json-array.js'
import { RangeRouter, routeLines } from './ndjson.js'

// A POST /logs (or /insert/jsonline) body, decoded: one entry (a JSON object
// or a form), a batch (a JSON array, checked here), NDJSON lines or a large
// JSON array (routed by service for the shards to parse), or, with named
// fields or msgpack, documents in the shipper's own shape (documents.ts).

/** What a body decodes to; `single` when it was one entry (answered 201 or 400 for that entry alone). */
export type LogsBody = Decoded<Rejected> & { single: boolean }

/**
 * `format` comes from bodyFormat(), run before the body is read so that a
 * wrong Content-Type is refused unread; `fields` (from requestFields) switches
 * to free-form documents; `shards` is how many the lines are routed among.
 */
export async function decodeLogsBody (body: Buffer | undefined, bodyType: BodyFormat, fields: FieldMap | null, window: Window, now: number, shards: number): Promise<LogsBody> {
  if (body === undefined || body.length === 0) throw new BadRequestError('request body is empty; send a JSON object with service, timestamp and message')
  if (bodyType === 'form' && !formIsJson(body)) {
    // Python's logging.handlers.HTTPHandler: one entry (formats/form-record.ts).
    if (!isUtf8(body)) throw new BadRequestError('request body is not valid UTF-8')
    return { ...decodedRecords([formEntry(body.toString('utf8'), window)]), single: true }
  }
  const format = bodyType === 'form' ? 'json' : bodyType
  // Named fields (or msgpack, which has no strict form): documents in the shipper's own shape.
  if (fields !== null || format === 'msgpack') return { ...await decodeDocuments(body, format, fields ?? DEFAULT_FIELDS, window, now), single: false }
  if (format === 'json' && body.length > SCAN_ABOVE && startsArray(body)) return await largeArray(body, window, shards)
  const parsed = parseBody(body, format)
  if (parsed.kind === 'single') return { ...decodedRecords([checkEntry(parsed.value, window)]), single: true }
  if (parsed.kind === 'lines') {
    const routed = routeLines(parsed.bytes, shards, window)
    if (routed.entries === 0) throw new BadRequestError('request body has no entries; send one JSON object per line')
    return { kind: 'lines', total: routed.entries, text: parsed.bytes, routed, window, single: false }
  }
  const checked = new CheckedRecords()
  for (const item of parsed.items) checked.add(checkEntry(item, window))
  return { ...checked.done(), single: false }
}

/**
 * A large JSON array: scanned into element ranges a slice at a time (never
 * one long JSON.parse on the front), routed like NDJSON lines, parsed by the shards.
 */
async function largeArray (body: Buffer, window: Window, shards: number): Promise<LogsBody> {
  if (!isUtf8(body)) throw new BadRequestError('request body is not valid UTF-8')
  const text = body.toString('utf8')
  const ranges = new RangeRouter(text, shards, window)
  const count = await scanArray(text, (start, end) => ranges.add(start, end))
  if (count === 0) throw new BadRequestError('request body is an empty array; send at least one entry')
  const routed = ranges.done()
  return { kind: 'lines', total: routed.entries, text, routed, window, single: false }
}
