import { isUtf8 } from 'node:buffer'
import { BadRequestError, InvalidEntryError, StoreFullError, retryAfter } from '../core/errors.js'
import { formIsJson, parseBody, type BodyFormat } from '../ingest/body.js'
import { formEntry } from '../ingest/formats/form-record.js'
import { DEFAULT_FIELDS, type FieldMap } from '../ingest/formats/json-doc.js'
import { checkEntry, checkLine, type Entry, type Window } from '../ingest/entry.js'
import { scanArray, SCAN_ABOVE, startsArray } from '../ingest/json-array.js'
import { linesAt, RangeRouter, routeLines, type Body, type RoutedLines } from '../ingest/ndjson.js'
import { MAX_REJECTED_LISTED, type Rejected } from '../store/shard-messages.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../core/timestamp.js'
import { json, type Answer } from './answer.js'
import { batchAnswer, SERVICES_FULL } from './batch-answer.js'
import { ingestDocs } from './docs-route.js'
import type { Protocol } from '../shards/meter.js'

const STORED_ONE = json(201, '{"status":"Log entry stored"}')

/**
 * POST /logs: one entry or a batch; answers only after every shard involved
 * has stored its part. `format` comes from bodyFormat(), which callers run
 * before reading the body so that a wrong Content-Type is refused unread.
 * `fields` (from requestFields) switches to free-form documents (docs-route.ts).
 */
export async function ingestBody (body: Buffer | undefined, bodyType: BodyFormat, router: ShardRouter, settings: Settings, fields: FieldMap | null = null, protocol: Protocol = 'logs'): Promise<Answer> {
  if (body === undefined || body.length === 0) throw new BadRequestError('request body is empty; send a JSON object with service, timestamp and message')
  if (bodyType === 'form' && !formIsJson(body)) return ingestForm(body, router, settings, protocol)
  const format = bodyType === 'form' ? 'json' : bodyType
  // Named fields (or msgpack, which has no strict form): documents in the shipper's own shape.
  if (fields !== null || format === 'msgpack') return ingestDocs(body, format, fields ?? DEFAULT_FIELDS, router, settings, protocol)
  const now = nowUs()
  const window: Window = { oldest: now - settings.retention * 1000, newest: now + settings.futureSkew * 1000 }
  if (format === 'json' && body.length > SCAN_ABOVE && startsArray(body)) return ingestLargeArray(body, router, window, protocol)
  const parsed = parseBody(body, format)
  if (parsed.kind === 'single') return storeOne(checkEntry(parsed.value, window), router, protocol)

  if (parsed.kind === 'lines') return ingestLines(parsed.bytes, router, window, protocol)

  const { items } = parsed
  const valid: Entry[] = []
  const validIndex: number[] = []
  const rejected: Rejected[] = []
  let rejectedCount = 0
  for (let index = 0; index < items.length; index++) {
    const entry = checkEntry(items[index], window)
    if (typeof entry === 'string') {
      if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index, error: entry })
      continue
    }
    valid.push(entry)
    validIndex.push(index)
  }
  if (rejectedCount > 0) router.meter.rejected(protocol, 'invalid', rejectedCount)
  const full = valid.length > 0 ? (await router.ingest(valid, protocol)).full.map((k) => validIndex[k]!) : []
  return batchAnswer(items.length, rejected, rejectedCount, full)
}

/** One entry, or why it was refused: 201, or 400 with the reason. */
async function storeOne (entry: Entry | string, router: ShardRouter, protocol: Protocol): Promise<Answer> {
  if (typeof entry === 'string') {
    router.meter.rejected(protocol, 'invalid', 1)
    throw new InvalidEntryError(entry)
  }
  const { full } = await router.ingest([entry], protocol)
  if (full.length > 0) throw retryAfter(new StoreFullError(SERVICES_FULL), 60)
  return STORED_ONE
}

/** A form body: one entry (Python's logging.handlers.HTTPHandler, formats/form-record.ts). */
async function ingestForm (body: Buffer, router: ShardRouter, settings: Settings, protocol: Protocol): Promise<Answer> {
  if (!isUtf8(body)) throw new BadRequestError('request body is not valid UTF-8')
  const now = nowUs()
  const window: Window = { oldest: now - settings.retention * 1000, newest: now + settings.futureSkew * 1000 }
  return storeOne(formEntry(body.toString('utf8'), window), router, protocol)
}

/**
 * A large JSON array: scanned into element ranges a slice at a time (never
 * one long JSON.parse on the front), routed like NDJSON lines, parsed by the shards.
 */
async function ingestLargeArray (body: Buffer, router: ShardRouter, window: Window, protocol: Protocol): Promise<Answer> {
  if (!isUtf8(body)) throw new BadRequestError('request body is not valid UTF-8')
  const text = body.toString('utf8')
  const ranges = new RangeRouter(text, router.shards.length, window)
  const count = await scanArray(text, (start, end) => ranges.add(start, end))
  if (count === 0) throw new BadRequestError('request body is an empty array; send at least one entry')
  return storeRouted(text, ranges.done(), router, window, protocol)
}

/** NDJSON: the front routes lines by service, the shards parse and store them. */
async function ingestLines (bytes: Buffer, router: ShardRouter, window: Window, protocol: Protocol): Promise<Answer> {
  const routed = routeLines(bytes, router.shards.length, window)
  if (routed.entries === 0) throw new BadRequestError('request body has no entries; send one JSON object per line')
  return storeRouted(bytes, routed, router, window, protocol)
}

/** Sends routed lines or elements to their shards; entries the quick look misrouted are parsed and stored here. */
async function storeRouted (text: Body, routed: RoutedLines, router: ShardRouter, window: Window, protocol: Protocol): Promise<Answer> {
  const result = await router.ingestLines(text, routed.perShard, window, protocol)
  const rejected = routed.rejected.concat(result.rejected)
  let rejectedCount = routed.rejectedCount + result.rejectedCount

  const full = result.full.slice()
  if (result.misrouted.length > 0) {
    // Lines the quick look routed wrongly (a nested or repeated "service" key): parse them here.
    const byIndex = linesAt(text, routed, result.misrouted)
    const entries: Entry[] = []
    const indexes: number[] = []
    for (const index of result.misrouted) {
      const entry = checkLine(byIndex.get(index)!, window)
      if (typeof entry === 'string') {
        if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index, error: entry })
      } else {
        entries.push(entry)
        indexes.push(index)
      }
    }
    if (entries.length > 0) for (const k of (await router.ingest(entries, protocol)).full) full.push(indexes[k]!)
  }
  // The shards counted what they refused (router.ingestLines); these were refused here.
  const refusedHere = rejectedCount - result.rejectedCount
  if (refusedHere > 0) router.meter.rejected(protocol, 'invalid', refusedHere)
  rejected.sort((a, b) => a.index - b.index)
  return batchAnswer(routed.entries, rejected.slice(0, MAX_REJECTED_LISTED), rejectedCount, full.sort((a, b) => a - b))
}
