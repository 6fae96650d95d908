import { isUtf8 } from 'node:buffer'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { BadRequestError } from '../core/errors.js'
import type { BodyFormat } from '../ingest/body.js'
import { DEFAULT_FIELDS, docRecord, type DocContext, type FieldMap } from '../ingest/formats/json-doc.js'
import { jsonValues, parsed, type JsonValue } from '../ingest/formats/json-values.js'
import { scanArray, SCAN_ABOVE, startsArray } from '../ingest/json-array.js'
import { msgpackEvents } from '../ingest/formats/msgpack-events.js'
import type { LogRecord } from '../ingest/record.js'
import { MAX_REJECTED_LISTED, type Rejected } from '../store/shard-messages.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import type { Protocol } from '../shards/meter.js'
import { nowUs } from '../core/timestamp.js'
import type { Answer } from './answer.js'
import { batchAnswer } from './batch-answer.js'

// POST /logs with _service_field, _time_field or _msg_field (or their
// headers), POST /insert/jsonline, and any msgpack body: documents in the
// shipper's own field names, mapped to records by json-doc.ts. JSON comes as
// an array, NDJSON or objects with no separator; msgpack as Fluent Bit events,
// whose own time is the entry's time unless the request names a time field.
// Answered like a POST /logs batch: 201 {"stored"}, or 400/507 listing the
// documents not stored by their index.

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

export async function ingestDocs (body: Buffer, format: BodyFormat, fields: FieldMap, router: ShardRouter, settings: Settings, protocol: Protocol): Promise<Answer> {
  const now = nowUs()
  const ctx: DocContext = { fields, fallbackService: null, fallbackTime: now, oldest: now - settings.retention * 1000, newest: now + settings.futureSkew * 1000 }
  const records: LogRecord[] = []
  const indexes: number[] = []
  const rejected: Rejected[] = []
  let rejectedCount = 0
  let total = 0
  const add = (record: LogRecord | string): void => {
    const index = total++
    if (typeof record !== 'string') {
      records.push(record)
      indexes.push(index)
    } else if (rejectedCount++ < MAX_REJECTED_LISTED) {
      rejected.push({ index, error: record })
    }
  }

  if (format === 'msgpack') {
    // The event's time is the entry's, unless the request names a field for it.
    const eventCtx = fields.time === DEFAULT_FIELDS.time ? { ...ctx, fields: { ...fields, time: [] } } : ctx
    for (const e of msgpackEvents(body)) {
      add(docRecord(e.record, { ...eventCtx, fallbackTime: e.ts }))
      if (total % SLICE === 0) await nextTurn()
    }
  } else {
    if (!isUtf8(body)) throw new BadRequestError('request body is not valid UTF-8')
    const text = body.toString('utf8')
    for (const v of body.length > SCAN_ABOVE && startsArray(body) ? await arrayElements(text) : jsonValues(text)) {
      add(v.error !== undefined ? v.error : docRecord(v.value, ctx))
      if (total % SLICE === 0) await nextTurn()
    }
  }
  if (total === 0) throw new BadRequestError('request body has no documents; send a JSON array, one object per line, or msgpack events')
  if (rejectedCount > 0) router.meter.rejected(protocol, 'invalid', rejectedCount)
  const full = records.length > 0 ? (await router.ingest(records, protocol)).full.map((k) => indexes[k]!) : []
  return batchAnswer(total, rejected, rejectedCount, full)
}
