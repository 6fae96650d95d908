import { isUtf8 } from 'node:buffer'
import { MalformedBodyError } from '../../errors.js'
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

/** Splits a bulk body into items, in order; throws MalformedBodyError (400) for the whole request. */
export function parseBulk (body: Buffer): BulkItem[] {
  if (!isUtf8(body)) throw malformed('the bulk body is not valid UTF-8')
  const lines = body.toString('utf8').split('\n')
  const items: BulkItem[] = []
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
    items.push(item)
    if (name === 'delete') {
      item.error = { type: 'illegal_argument_exception', reason: 'delete is not supported: this server keeps logs until they age out of its retention window' }
      continue
    }
    const source = next()
    if (source === null) throw malformed(`the ${name} action on line [${lineNo}] has no document line after it; every index or create line is followed by its document`)
    if (name === 'update') {
      item.error = { type: 'illegal_argument_exception', reason: 'update is not supported: send each log as an index or create action' }
      continue
    }
    try {
      item.doc = JSON.parse(source)
    } catch (err) {
      item.error = { type: 'document_parsing_exception', reason: `the document on line [${i}] is not valid JSON: ${(err as Error).message.slice(0, 200)}` }
    }
  }
  if (items.length === 0) throw malformed('Validation Failed: 1: no requests added; send action and document lines, each ending with a newline')
  return items
}

export interface BulkResult {
  records: LogRecord[]
  /** For each record, its item's position. */
  recordItems: number[]
  /** For each item, null once mapped to a record, or why it is not stored. */
  errors: Array<BulkError | null>
}

/**
 * Items to records: service from the document's fields, else the action's
 * _index, else the index in the path (`ctx.fallbackService`).
 */
export function bulkRecords (items: readonly BulkItem[], ctx: DocContext): BulkResult {
  const records: LogRecord[] = []
  const recordItems: number[] = []
  const errors: Array<BulkError | null> = []
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!
    if (item.error !== null) {
      errors.push(item.error)
      continue
    }
    const record = docRecord(item.doc, { ...ctx, fallbackService: item.index ?? ctx.fallbackService })
    if (typeof record === 'string') {
      errors.push({ type: 'document_parsing_exception', reason: record })
      continue
    }
    errors.push(null)
    records.push(record)
    recordItems.push(k)
  }
  return { records, recordItems, errors }
}
