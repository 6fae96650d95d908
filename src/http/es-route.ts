import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import express, { type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { MethodNotAllowedError, UnsupportedMediaTypeError } from '../core/errors.js'
import { readBulk, type BulkError } from '../ingest/formats/es-bulk.js'
import { DEFAULT_FIELDS } from '../ingest/formats/json-doc.js'
import { jsonString } from '../core/json-text.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../core/timestamp.js'
import { describeError, type HttpError } from './answer.js'
import { readBody } from './body.js'
import { requestFields } from './field-params.js'
import type { HttpPolicy } from './policy.js'
import type { QueryValues } from './query-string.js'

// Enough of an Elasticsearch 8 node for log shippers (Filebeat, Logstash,
// rsyslog's omelasticsearch, Fluent Bit's es output, Vector's elasticsearch
// sink): the handshakes they make before sending (GET /, /_license,
// /_nodes/http, /_cluster/health, index template and ILM calls acknowledged
// without effect), and POST /_bulk, answered per item in Elasticsearch's
// shape so a client retries only what failed. Mounted at / and under
// /insert/elasticsearch/. Errors are Elasticsearch's {"error": {type, reason}, "status"}.

const VERSION = '8.11.0'
const CLUSTER_UUID = randomBytes(16).toString('base64url').slice(0, 22)
/** Elastic's own clients refuse a server that does not say it is Elasticsearch. */
const PRODUCT_HEADER = ['x-elastic-product', 'Elasticsearch'] as const

const BULK_TYPES = new Set(['', 'application/json', 'application/x-ndjson', 'application/vnd.elasticsearch+json', 'application/vnd.elasticsearch+x-ndjson', 'text/plain'])

/** The Elasticsearch error type for a status, for clients that look at it. */
function errorType (status: number): string {
  switch (status) {
    case 400: return 'parse_exception'
    case 401: return 'security_exception'
    case 403: return 'security_exception'
    case 404: return 'resource_not_found_exception'
    case 413: return 'content_too_long_exception'
    case 415: return 'media_type_header_exception'
    case 429: return 'es_rejected_execution_exception'
    default: return status >= 500 ? 'unavailable_shards_exception' : 'illegal_argument_exception'
  }
}

/** Sends an Elasticsearch answer; `body` is an object, or JSON text made already. */
function sendEs (res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.setHeader(...PRODUCT_HEADER)
  for (const k in headers) res.setHeader(k, headers[k]!)
  res.status(status)
  if (res.req.method === 'HEAD') {
    res.end()
    return
  }
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}

/** Any error as Elasticsearch answers one. A full store is a 429 (the status bulk clients retry), not our 507. */
function sendEsError (res: Response, err: HttpError, settings: Settings, log: Logger): void {
  const e = describeError(err, settings.maxBody, log, { method: res.req.method, url: res.req.originalUrl })
  const status = e.status === 507 ? 429 : e.status
  const cause = { type: errorType(status), reason: `${e.message} (${e.code})` }
  sendEs(res, status, { error: { root_cause: [cause], ...cause }, status }, e.headers)
}

let idCounter = 0
const ID_PREFIX = randomBytes(4).toString('hex')
const nextId = (): string => `${ID_PREFIX}${(++idCounter).toString(36)}`

/** POST /_bulk and /<index>/_bulk. */
async function bulk (req: Request, res: Response, router: ShardRouter, settings: Settings): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (!BULK_TYPES.has(type)) throw new UnsupportedMediaTypeError(`Content-Type ${JSON.stringify(type.slice(0, 64))} is not supported on _bulk; send application/x-ndjson or application/json`)
  const fields = requestFields(req.query as QueryValues, req.headers) ?? DEFAULT_FIELDS
  const body = await readBody(req, settings.maxBody)
  const started = performance.now()
  const now = nowUs()
  const pathIndex = typeof req.params.index === 'string' ? req.params.index : null
  const { items, records, recordItems, errors } = await readBulk(body, {
    fields,
    fallbackService: pathIndex,
    fallbackTime: now,
    oldest: now - settings.retention * 1000,
    newest: now + settings.futureSkew * 1000
  })
  const refused = new Set<number>()
  const invalid = items.length - records.length
  if (invalid > 0) router.meter.rejected('elasticsearch', 'invalid', invalid)
  if (records.length > 0) for (const k of (await router.ingest(records, 'elasticsearch')).full) refused.add(recordItems[k]!)

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
  sendEs(res, 200, `{"took":${Math.round(performance.now() - started)},"errors":${failed},"items":[${out.join(',')}]}`)
}

/** What GET / answers: a version object that Elasticsearch 8 clients accept. */
const rootInfo = {
  name: 'logagg',
  cluster_name: 'logagg',
  cluster_uuid: CLUSTER_UUID,
  version: {
    number: VERSION,
    build_flavor: 'default',
    build_type: 'tar',
    build_hash: '0000000000000000000000000000000000000000',
    build_date: '2023-11-04T10:04:57.184859352Z',
    build_snapshot: false,
    lucene_version: '9.8.0',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0'
  },
  tagline: 'You Know, for Search'
}

const license = {
  license: {
    status: 'active',
    uid: CLUSTER_UUID,
    type: 'basic',
    issue_date: '2026-01-01T00:00:00.000Z',
    issue_date_in_millis: 1767225600000,
    max_nodes: 1000,
    max_resource_units: null,
    issued_to: 'logagg',
    issuer: 'elasticsearch',
    start_date_in_millis: -1
  }
}

const INFO_PATHS = ['/', '/_license', '/_nodes/http', '/_cluster/health', '/_cat/health']
const BULK_PATHS = ['/_bulk', '/:index/_bulk']

const notAllowed = (allow: string) => (req: Request): never => {
  throw Object.assign(new MethodNotAllowedError(`${req.method} is not allowed on ${req.originalUrl.split('?')[0]}; use ${allow}`), { allow })
}

/** Index templates, ILM policies, pipelines, data streams: acknowledged and forgotten (GET and HEAD say they exist). */
const SETUP_PATHS = ['/_index_template/:name', '/_template/:name', '/_component_template/:name', '/_ilm/policy/:name', '/_ingest/pipeline/:name', '/_data_stream/:name']

export function esRoutes (router: ShardRouter, settings: Settings, log: Logger, policy: HttpPolicy): express.Router {
  const es = express.Router()
  const handle = (fn: (req: Request, res: Response) => Promise<void> | void) => async (req: Request, res: Response): Promise<void> => {
    try {
      await fn(req, res)
    } catch (err) {
      sendEsError(res, err as HttpError, settings, log)
    }
  }
  const ingest = (fn: (req: Request, res: Response) => Promise<void> | void) => handle(async (req, res) => {
    policy.checkIngest?.(req.headers.authorization)
    await fn(req, res)
  })

  es.get('/', handle((_req, res) => sendEs(res, 200, rootInfo)))
  es.get('/_license', handle((_req, res) => sendEs(res, 200, license)))
  es.get('/_nodes/http', handle((req, res) => {
    const address = req.headers.host ?? `${settings.host}:${settings.port}`
    sendEs(res, 200, {
      _nodes: { total: 1, successful: 1, failed: 0 },
      cluster_name: 'logagg',
      nodes: { logagg: { name: 'logagg', version: VERSION, roles: ['data', 'ingest', 'master'], http: { bound_address: [address], publish_address: address, max_content_length_in_bytes: settings.maxBody } } }
    })
  }))
  es.get('/_cluster/health', handle((_req, res) => sendEs(res, router.healthy ? 200 : 503, {
    cluster_name: 'logagg', status: router.healthy ? 'green' : 'red', timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1
  })))
  // rsyslog's omelasticsearch checks the connection with _cat/health (text, or JSON with ?format=json).
  es.get('/_cat/health', handle((req, res) => {
    const row = { epoch: String(Math.floor(Date.now() / 1000)), cluster: 'logagg', status: router.healthy ? 'green' : 'red', 'node.total': '1' }
    if (req.query.format === 'json') {
      sendEs(res, 200, [row])
      return
    }
    res.setHeader(...PRODUCT_HEADER)
    res.type('text/plain').send(`${row.epoch} ${row.cluster} ${row.status} ${row['node.total']}\n`)
  }))
  es.get(SETUP_PATHS, handle((_req, res) => sendEs(res, 200, {})))
  es.put(SETUP_PATHS, ingest((_req, res) => sendEs(res, 200, { acknowledged: true })))
  es.post(SETUP_PATHS, ingest((_req, res) => sendEs(res, 200, { acknowledged: true })))
  es.delete(SETUP_PATHS, ingest((_req, res) => sendEs(res, 200, { acknowledged: true })))
  const bulkHandler = ingest((req, res) => bulk(req, res, router, settings))
  es.post(BULK_PATHS, bulkHandler)
  es.put(BULK_PATHS, bulkHandler)
  // Other methods: a 405 naming the allowed ones, from the app's error handler (not Express's automatic OPTIONS answer).
  es.all(INFO_PATHS, notAllowed('GET, HEAD'))
  es.all(SETUP_PATHS, notAllowed('GET, HEAD, PUT, POST, DELETE'))
  es.all(BULK_PATHS, notAllowed('POST, PUT'))
  return es
}
