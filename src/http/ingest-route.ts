import { BadRequestError, InvalidEntryError } from '../errors.js'
import { ParseFailure, bodyFormat, parseBody } from '../ingest/body.js'
import { checkEntry, type Entry, type Window } from '../ingest/entry.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../timestamp.js'
import { json, type Answer } from './answer.js'

/** At most this many rejected entries are described one by one in a 400 answer. */
export const MAX_REJECTED_LISTED = 1000

const STORED_ONE = json(201, '{"status":"Log entry stored"}')

/** POST /logs: one entry or a batch; answers only after every shard involved has stored its part. */
export async function ingestBody (body: Buffer | undefined, contentType: string | undefined, router: ShardRouter, settings: Settings): Promise<Answer> {
  if (body === undefined || body.length === 0) throw new BadRequestError('request body is empty; send a JSON object with service, timestamp and message')
  const parsed = parseBody(body, bodyFormat(contentType))
  const now = nowUs()
  const window: Window = { oldest: now - settings.retention * 1000, newest: now + settings.futureSkew * 1000 }

  if (parsed.kind === 'single') {
    const entry = checkEntry(parsed.value, window)
    if (typeof entry === 'string') throw new InvalidEntryError(entry)
    await router.ingest([entry])
    return STORED_ONE
  }

  const { items } = parsed
  const valid: Entry[] = []
  const rejected: Array<{ index: number, error: string }> = []
  let rejectedCount = 0
  for (let index = 0; index < items.length; index++) {
    const item = items[index]
    const entry = item instanceof ParseFailure ? item.error : checkEntry(item, window)
    if (typeof entry === 'string') {
      if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index, error: entry })
      continue
    }
    valid.push(entry)
  }
  if (valid.length > 0) await router.ingest(valid)
  const stored = items.length - rejectedCount
  if (rejectedCount === 0) return json(201, `{"stored":${stored}}`)
  return json(400, JSON.stringify({
    error: `${rejectedCount} of ${items.length} entries were rejected and not stored; the other ${stored} were stored. Fix the entries listed in rejected and send only those again`,
    code: 'LOGAGG_ERR_INVALID_ENTRY',
    stored,
    rejectedCount,
    rejected
  }))
}
