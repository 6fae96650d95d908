import { isUtf8 } from 'node:buffer'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { BadRequestError } from '../core/errors.js'
import type { BodyFormat } from './body.js'
import { CheckedRecords, type DecodedRecords } from './decoded.js'
import type { Window } from './entry.js'
import { DEFAULT_FIELDS, docRecord, type DocContext, type FieldMap } from './formats/json-doc.js'
import { jsonValues, parsed, type JsonValue } from './formats/json-values.js'
import { scanArray, SCAN_ABOVE, startsArray } from './json-array.js'
import { msgpackEvents } from './formats/msgpack-events.js'
import type { Rejected } from './batch.js'

// POST /logs with _service_field, _time_field or _msg_field (or their
// headers), POST /insert/jsonline, and any msgpack body: documents in the
// shipper's own field names, mapped to records by json-doc.ts. JSON comes as
// an array, NDJSON or objects with no separator; msgpack as Fluent Bit events,
// whose own time is the entry's time unless the request names a time field.
// Decoded into records and the documents refused, by their index.

/**
 * A large JSON array (Vector sends one line of up to 10 MB) is not one long
 * JSON.parse: json-array.ts finds its elements a slice at a time, as for
 * POST /logs, and each is parsed on its own.
 */
async function arrayElements (text: string): Promise<Generator<JsonValue>> {
  const bounds: number[] = []
  await scanArray(text, (start, end) => { bounds.push(start, end) })
  return (function * () {
    for (let i = 0; i < bounds.length; i += 2) yield * parsed(text.slice(bounds[i], bounds[i + 1]), false)
  })()
}

/** Documents mapped between two turns of the event loop (a 16 MB body is about 0.4 s of work in all). */
const SLICE = 1000

/** Every document of the body, as a record or the sentence saying why it is refused. */
export async function decodeDocuments (body: Buffer, format: Exclude<BodyFormat, 'form'>, fields: FieldMap, window: Window, now: number): Promise<DecodedRecords<Rejected>> {
  const ctx: DocContext = { fields, fallbackService: null, fallbackTime: now, oldest: window.oldest, newest: window.newest }
  const checked = new CheckedRecords()
  if (format === 'msgpack') {
    // The event's time is the entry's, unless the request names a field for it.
    const eventCtx = fields.time === DEFAULT_FIELDS.time ? { ...ctx, fields: { ...fields, time: [] } } : ctx
    for (const e of msgpackEvents(body)) {
      checked.add(docRecord(e.record, { ...eventCtx, fallbackTime: e.ts }))
      if (checked.total % SLICE === 0) await nextTurn()
    }
  } else {
    if (!isUtf8(body)) throw new BadRequestError('request body is not valid UTF-8')
    const text = body.toString('utf8')
    for (const v of body.length > SCAN_ABOVE && startsArray(body) ? await arrayElements(text) : jsonValues(text)) {
      checked.add(v.error !== undefined ? v.error : docRecord(v.value, ctx))
      if (checked.total % SLICE === 0) await nextTurn()
    }
  }
  if (checked.total === 0) throw new BadRequestError('request body has no documents; send a JSON array, one object per line, or msgpack events')
  return checked.done()
}
