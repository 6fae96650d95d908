import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { UnsupportedMediaTypeError } from '../../core/errors.js'
import { jsonString } from '../../core/json-text.js'
import { mediaType } from '../../core/media-type.js'
import type { DecodedRecords } from '../../ingest/decoded.js'
import { readBulk, type BulkError, type BulkResult } from '../../ingest/formats/es-bulk.js'
import { DEFAULT_FIELDS, type FieldMap } from '../../ingest/formats/json-doc.js'
import { esError, sendEs, type EsAnswer } from '../es-route.js'
import { requestFields } from '../field-params.js'
import type { IngestProtocol } from './protocol.js'

// POST (or PUT) /_bulk and /<index>/_bulk, at / and under /insert/elasticsearch/:
// answered per item in Elasticsearch's shape, so a client retries only what
// failed (a full store is a 429 for the items refused). The handshakes its
// clients make first are in es-route.ts.

const BULK_TYPES = new Set(['', 'application/json', 'application/x-ndjson', 'application/vnd.elasticsearch+json', 'application/vnd.elasticsearch+x-ndjson', 'text/plain'])

let idCounter = 0
const ID_PREFIX = randomBytes(4).toString('hex')
const nextId = (): string => `${ID_PREFIX}${(++idCounter).toString(36)}`

type DecodedBulk = DecodedRecords<never> & BulkResult & { pathIndex: string | null, started: number }

export const ES_BULK: IngestProtocol<FieldMap, never, DecodedBulk, EsAnswer> = {
  name: 'elasticsearch',
  paths: ['/_bulk', '/:index/_bulk', '/insert/elasticsearch/_bulk', '/insert/elasticsearch/:index/_bulk'],
  methods: ['POST', 'PUT'],
  accept ({ req, query }) {
    const type = mediaType(req.headers['content-type'])
    if (!BULK_TYPES.has(type)) throw new UnsupportedMediaTypeError(`Content-Type ${JSON.stringify(type.slice(0, 64))} is not supported on _bulk; send application/x-ndjson or application/json`)
    return requestFields(query, req.headers) ?? DEFAULT_FIELDS
  },
  async decode (body, fields, { now, window, params }) {
    const started = performance.now()
    const pathIndex = typeof params.index === 'string' ? params.index : null
    const bulk = await readBulk(body, { fields, fallbackService: pathIndex, fallbackTime: now, oldest: window.oldest, newest: window.newest })
    // Refused items are named in the answer item by item (bulk.errors), not listed.
    return { kind: 'records', total: bulk.items.length, indexes: bulk.recordItems, invalid: [], invalidCount: bulk.items.length - bulk.records.length, ...bulk, pathIndex, started }
  },
  answer ({ full }, _fields, { items, records, errors, pathIndex, started }) {
    const refused = new Set(full)
    let failed = false
    let r = 0
    // Written as text, one item at a time: a thousand small objects and their
    // stringifying were a fifth of the front thread's time on a bulk of 1000.
    const out: string[] = new Array(items.length)
    for (let k = 0; k < items.length; k++) {
      const item = items[k]!
      const index = item.index ?? pathIndex ?? (errors[k] === null ? records[r]!.service : 'logs')
      if (errors[k] === null) r++
      const head = `{"${item.action}":{"_index":${jsonString(index)},"_id":${item.id === null ? `"${nextId()}"` : jsonString(item.id)},`
      let error: BulkError | null = errors[k]!
      let status = 400
      if (error === null && refused.has(k)) {
        status = 429
        error = { type: 'es_rejected_execution_exception', reason: 'refused because the store holds as many services as MAX_SERVICES allows; send it again later' }
      }
      if (error !== null) {
        failed = true
        out[k] = `${head}"status":${status},"error":${JSON.stringify(error)}}}`
      } else {
        out[k] = `${head}"_version":1,"result":"created","status":201}}`
      }
    }
    return { status: 200, body: `{"took":${Math.round(performance.now() - started)},"errors":${failed},"items":[${out.join(',')}]}` }
  },
  error: esError,
  send: sendEs
}
