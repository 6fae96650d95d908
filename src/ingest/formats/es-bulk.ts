import { isUtf8 } from 'node:buffer'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { MalformedBodyError } from '../../core/errors.js'
import type { LogRecord } from '../record.js'
import { docRecord, isDoc, type DocContext } from './json-doc.js'

// The Elasticsearch _bulk API: NDJSON pairs of an action line
// ({"index": {"_index": "logs"}} or {"create": {...}}) and a document line.
// Only index and create store anything; delete (no document line) and update
// (one) are answered with a per-item error, as Elasticsearch answers an action
// it cannot do. An action line that cannot be read fails the whole request
// (400), as it does in Elasticsearch: after it, nothing says where the next
// pair starts.

export type BulkAction = 'index' | 'create' | 'update' | 'delete'

export interface BulkError { type: string, reason: string }

export interface BulkItem {
  action: BulkAction
  /** The action's _index, if any. */
  index: string | null
  id: string | null
  /** The document, or the error that stops it from being stored. */
  doc: unknown
  error: BulkError | null
}

const ACTIONS = new Set<string>(['index', 'create', 'update', 'delete'])

const malformed = (what: string): Error => new MalformedBodyError(what)

/**
 * The items of a bulk body's text, in order; throws MalformedBodyError (400,
 * for the whole request) at the first action line that cannot be read.
 */
export function * bulkItems (text: string): Generator<BulkItem> {
  const lines = text.split('\n')
  let i = 0
  const next = (): string | null => {
    while (i < lines.length) {
      const line = lines[i++]!
      if (line.trim() !== '') return line
    }
    return null
  }
  for (let line = next(); line !== null; line = next()) {
    const lineNo = i
    let action: unknown
    try {
      action = JSON.parse(line)
    } catch (err) {
      throw malformed(`Malformed action/metadata line [${lineNo}], expected a JSON object such as {"create":{}} (${(err as Error).message.slice(0, 120)})`)
    }
    const keys = isDoc(action) ? Object.keys(action) : []
    if (keys.length !== 1) throw malformed(`Malformed action/metadata line [${lineNo}], expected an object with one key: create, index, update or delete`)
    const name = keys[0]!
    if (!ACTIONS.has(name)) throw malformed(`Malformed action/metadata line [${lineNo}], expected field [create], [delete], [index] or [update] but found [${name.slice(0, 64)}]`)
    const meta = (action as Record<string, unknown>)[name]
    if (!isDoc(meta)) throw malformed(`Malformed action/metadata line [${lineNo}], the value of [${name}] must be an object`)
    const index = typeof meta._index === 'string' && meta._index !== '' ? meta._index : null
    const id = typeof meta._id === 'string' ? meta._id : null
    const item: BulkItem = { action: name as BulkAction, index, id, doc: null, error: null }
    if (name === 'delete') {
      item.error = { type: 'illegal_argument_exception', reason: 'delete is not supported: this server keeps logs until they age out of its retention window' }
      yield item
      continue
    }
    const source = next()
    if (source === null) throw malformed(`the ${name} action on line [${lineNo}] has no document line after it; every index or create line is followed by its document`)
    if (name === 'update') {
      item.error = { type: 'illegal_argument_exception', reason: 'update is not supported: send each log as an index or create action' }
    } else {
      try {
        item.doc = JSON.parse(source)
      } catch (err) {
        item.error = { type: 'document_parsing_exception', reason: `the document on line [${i}] is not valid JSON: ${(err as Error).message.slice(0, 200)}` }
      }
    }
    yield item
  }
}

/**
 * An item as a record (service from the document's fields, else the
 * action's _index, else the index in the path: `ctx.fallbackService`), or
 * why it is not stored.
 */
export function itemRecord (item: BulkItem, ctx: DocContext): LogRecord | BulkError {
  if (item.error !== null) return item.error
  const record = docRecord(item.doc, item.index === null ? ctx : { ...ctx, fallbackService: item.index })
  return typeof record === 'string' ? { type: 'document_parsing_exception', reason: record } : record
}

export interface BulkResult {
  items: BulkItem[]
  records: LogRecord[]
  /** For each record, its item's position. */
  recordItems: number[]
  /** For each item, null once mapped to a record, or why it is not stored. */
  errors: Array<BulkError | null>
}

/** Items read between two turns of the event loop: a 16 MB body takes about 0.4 s of parsing and mapping in all. */
export const BULK_SLICE = 1000

/**
 * Reads a whole bulk body into items and records, giving the event loop a
 * turn every `slice` items so a large body does not hold up other requests.
 */
export async function readBulk (body: Buffer, ctx: DocContext, slice = BULK_SLICE): Promise<BulkResult> {
  if (!isUtf8(body)) throw malformed('the bulk body is not valid UTF-8')
  const out: BulkResult = { items: [], records: [], recordItems: [], errors: [] }
  for (const item of bulkItems(body.toString('utf8'))) {
    const k = out.items.push(item) - 1
    const r = itemRecord(item, ctx)
    if ('type' in r) {
      out.errors.push(r)
    } else {
      out.errors.push(null)
      out.records.push(r)
      out.recordItems.push(k)
    }
    if ((k + 1) % slice === 0) await nextTurn()
  }
  if (out.items.length === 0) throw malformed('Validation Failed: 1: no requests added; send action and document lines, each ending with a newline')
  return out
}
