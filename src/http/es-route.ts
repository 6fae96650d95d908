import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import express, { type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { MethodNotAllowedError } from '../core/errors.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { describeError, type ErrorParts, type HttpError } from './answer.js'
import type { HttpPolicy } from './policy.js'

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

/** An Elasticsearch answer: `body` is an object, or JSON text made already. */
export interface EsAnswer { status: number, body: unknown, headers?: Record<string, string> }

/** Sends an Elasticsearch answer (no body to HEAD). */
export function sendEs (res: ServerResponse, { status, body, headers }: EsAnswer): void {
  res.setHeader(...PRODUCT_HEADER)
  for (const k in headers) res.setHeader(k, headers[k]!)
  res.statusCode = status
  if (res.req.method === 'HEAD') {
    res.end()
    return
  }
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}

const reply = (res: ServerResponse, status: number, body: unknown): void => sendEs(res, { status, body })

/** An error as Elasticsearch answers one. A full store is a 429 (the status bulk clients retry), not our 507. */
export function esError (e: ErrorParts): EsAnswer {
  const status = e.status === 507 ? 429 : e.status
  const cause = { type: errorType(status), reason: `${e.message} (${e.code})` }
  return { status, body: { error: { root_cause: [cause], ...cause }, status }, headers: e.headers }
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
      sendEs(res, esError(describeError(err as HttpError, settings.maxBody, log, { method: req.method, url: req.originalUrl })))
    }
  }
  const ingest = (fn: (req: Request, res: Response) => Promise<void> | void) => handle(async (req, res) => {
    policy.checkIngest?.(req.headers.authorization)
    await fn(req, res)
  })

  es.get('/', handle((_req, res) => reply(res, 200, rootInfo)))
  es.get('/_license', handle((_req, res) => reply(res, 200, license)))
  es.get('/_nodes/http', handle((req, res) => {
    const address = req.headers.host ?? `${settings.host}:${settings.port}`
    reply(res, 200, {
      _nodes: { total: 1, successful: 1, failed: 0 },
      cluster_name: 'logagg',
      nodes: { logagg: { name: 'logagg', version: VERSION, roles: ['data', 'ingest', 'master'], http: { bound_address: [address], publish_address: address, max_content_length_in_bytes: settings.maxBody } } }
    })
  }))
  es.get('/_cluster/health', handle((_req, res) => reply(res, router.healthy ? 200 : 503, {
    cluster_name: 'logagg', status: router.healthy ? 'green' : 'red', timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1
  })))
  // rsyslog's omelasticsearch checks the connection with _cat/health (text, or JSON with ?format=json).
  es.get('/_cat/health', handle((req, res) => {
    const row = { epoch: String(Math.floor(Date.now() / 1000)), cluster: 'logagg', status: router.healthy ? 'green' : 'red', 'node.total': '1' }
    if (req.query.format === 'json') {
      reply(res, 200, [row])
      return
    }
    res.setHeader(...PRODUCT_HEADER)
    res.type('text/plain').send(`${row.epoch} ${row.cluster} ${row.status} ${row['node.total']}\n`)
  }))
  es.get(SETUP_PATHS, handle((_req, res) => reply(res, 200, {})))
  es.put(SETUP_PATHS, ingest((_req, res) => reply(res, 200, { acknowledged: true })))
  es.post(SETUP_PATHS, ingest((_req, res) => reply(res, 200, { acknowledged: true })))
  es.delete(SETUP_PATHS, ingest((_req, res) => reply(res, 200, { acknowledged: true })))
  // Other methods: a 405 naming the allowed ones, from the app's error handler (not Express's automatic OPTIONS answer).
  es.all(INFO_PATHS, notAllowed('GET, HEAD'))
  es.all(SETUP_PATHS, notAllowed('GET, HEAD, PUT, POST, DELETE'))
  return es
}
