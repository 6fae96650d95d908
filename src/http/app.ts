import cors from 'cors'
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import type { Logger } from 'pino'
import { BadRequestError, MethodNotAllowedError, NotFoundError, ShuttingDownError } from '../core/errors.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { describeError, json, type Answer, type HttpError } from './answer.js'
import { jsonError } from './ingest/logs.js'
import { esRoutes } from './es-route.js'
import { hasLargeUnreadBody } from './body.js'
import { ingest } from './ingest/protocol.js'
import { INGEST_PROTOCOLS, protocolAt } from './ingest/registry.js'
import { openapiDocument } from './openapi-route.js'
import type { HttpPolicy } from './policy.js'
import type { Allowed } from '../tenants/resolve.js'
import type { ServerMetrics } from '../metrics/server-metrics.js'
import { detectedFields, indexStats, labelNames, labelValues, series } from './loki-labels-route.js'
import { LOKI_API_VERSION, buildInfo, lokiQueryError, queryInstant, queryRange, type LokiAnswer } from './loki-query-route.js'
import { listServices, queryLogs } from './query-route.js'
import { parseQueryString, type QueryValues } from './query-string.js'
import { logsTail } from './tail-route.js'
import { explorerRoutes } from './explorer-route.js'
import { addDelete, cancelDelete, listDeletes } from './delete-route.js'
import type { DeleteApi } from '../shards/delete-requests.js'
import { logsVolume } from './volume-route.js'
import { clientGone, send } from './send.js'

/** Whether the server has begun shutting down; requests that still arrive get a 503. */
export interface Lifecycle {
  closing: boolean
}

/** Answers 405 with the methods a path does support. */
function methodNotAllowed (allow: string) {
  return (req: Request): void => {
    throw Object.assign(new MethodNotAllowedError(`${req.method} is not allowed on ${req.path}; use ${allow}`), { allow })
  }
}

/** Adapts a handler that returns an Answer to Express. */
const route = (handle: (req: Request) => Promise<Answer> | Answer): RequestHandler =>
  async (req, res) => { send(res, await handle(req)) }

/** The Express app: every route, including the ones the fast path usually serves. */
export function buildApp (router: ShardRouter, settings: Settings, log: Logger, lifecycle: Lifecycle, policy: HttpPolicy, metrics: ServerMetrics, deletes: DeleteApi): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  // Every parameter, or 414/400 past the bounds; Express's default keeps 1000 and drops the rest.
  app.set('query parser', parseQueryString)

  app.use((req, _res, next) => {
    if (lifecycle.closing) throw new ShuttingDownError()
    policy.checkSource?.(req.headers)
    next()
  })
  // A JSON API: no scripts, frames or sniffing; helmet's headers say so to browsers.
  app.use((_req, res, next) => {
    for (const [name, value] of policy.headers) res.setHeader(name, value)
    next()
  })
  if (settings.corsOrigin !== '') app.use(cors({ origin: settings.corsOrigin, methods: ['GET', 'HEAD', 'POST'], maxAge: 600 }))

  // The guard checks the token before the route runs; the route's tenants are then checked against what it allows.
  const allowedOf = new WeakMap<Request, Allowed>()
  const guard = (check: HttpPolicy['checkIngest']): RequestHandler[] =>
    check === null ? [] : [(req, _res, next) => { allowedOf.set(req, check(req.headers.authorization)); next() }]
  const tenants = {
    one: (req: Request): string => policy.tenants.one(req.headers, allowedOf.get(req)),
    many: (req: Request): string[] => policy.tenants.many(req.headers, allowedOf.get(req))
  }
  // Every ingest protocol at its paths (ingest/registry.ts); each refuses a
  // wrong Content-Type before the body is read, and answers in its own shape.
  for (const protocol of INGEST_PROTOCOLS) {
    const handler: RequestHandler = async (req, res) => {
      protocol.send(res, await ingest(protocol, { req, query: req.query as QueryValues, params: req.params as Record<string, string> }, router, settings, tenants.one(req)))
    }
    // One route per path, so /metrics names each by its own pattern.
    for (const path of protocol.paths) {
      for (const method of protocol.methods) app[method === 'POST' ? 'post' : 'put'](path, ...guard(policy.checkIngest), handler)
    }
  }
  app.get('/logs/tail', ...guard(policy.checkQuery), async (req, res) => {
    try {
      await logsTail(req, res, req.query as Record<string, unknown>, router, settings, tenants.one(req))
    } catch (err) {
      if (res.headersSent) res.destroy()
      else throw err
    }
  })
  app.all('/logs/tail', methodNotAllowed('GET'))
  app.get('/logs/volume', ...guard(policy.checkQuery), async (req, res) => {
    send(res, await logsVolume(req.query as Record<string, unknown>, router, settings, tenants.one(req), clientGone(res)))
  })
  app.all('/logs/volume', methodNotAllowed('GET, HEAD'))
  app.get('/logs', ...guard(policy.checkQuery), async (req, res) => {
    send(res, await queryLogs(req.query as Record<string, unknown>, router, settings, tenants.one(req), clientGone(res), req.headers.accept))
  })
  app.all('/logs', methodNotAllowed('GET, HEAD, POST'))
  // Loki's query API answers errors in Loki's JSON; the error handler at the
  // end picks the shape by path (the ingest protocols' from the registry).
  type LokiRun = (raw: Record<string, unknown>, req: Request, res: Response) => Promise<LokiAnswer>
  const lokiQuery = (run: LokiRun): RequestHandler => async (req, res) => {
    // Loki takes the parameters as a form body too (logcli and Grafana may POST them).
    const form = req.method === 'POST' && typeof req.body === 'object' && req.body !== null ? req.body as Record<string, unknown> : {}
    send(res, await run({ ...(req.query as Record<string, unknown>), ...form }, req, res))
  }
  const flags = (req: Request): string => String(req.headers['x-loki-response-encoding-flags'] ?? '')
  // Loki's queries may name several tenants (X-Scope-OrgID: a|b); their answers then carry __tenant_id__.
  const many = tenants.many
  const lokiRoutes: Array<[string, LokiRun]> = [
    ['/loki/api/v1/query_range', async (raw, req, res) => await queryRange(raw, router, settings, flags(req), many(req), clientGone(res))],
    ['/loki/api/v1/query', async (raw, req, res) => await queryInstant(raw, router, settings, flags(req), many(req), clientGone(res))],
    ['/loki/api/v1/labels', async (raw, req) => await labelNames(raw, router, settings, many(req))],
    ['/loki/api/v1/label/:name/values', async (raw, req) => await labelValues(String(req.params.name), raw, router, settings, many(req))],
    ['/loki/api/v1/series', async (raw, req) => await series(raw, router, settings, many(req))],
    ['/loki/api/v1/index/stats', async (raw, req) => await indexStats(raw, router, settings, many(req))],
    ['/loki/api/v1/detected_fields', async (raw, req) => await detectedFields(raw, router, settings, many(req))]
  ]
  for (const [path, run] of lokiRoutes) {
    app.get(path, ...guard(policy.checkQuery), lokiQuery(run))
    app.post(path, ...guard(policy.checkQuery), express.urlencoded({ extended: false, limit: '64kb' }), lokiQuery(run))
    app.all(path, methodNotAllowed('GET, HEAD, POST'))
  }
  // Loki's delete API: the admin scope (AUTH_TOKEN, or a TOKENS_FILE token with admin), one tenant.
  const deleteRoute = (run: (raw: Record<string, unknown>, req: Request) => Promise<LokiAnswer>): RequestHandler => async (req, res) => {
    const answer = await run(req.query as Record<string, unknown>, req)
    send(res, answer.status === 204 ? { status: 204, body: '' } : { status: answer.status, body: answer.body, headers: { 'content-type': 'application/json; charset=utf-8' } })
  }
  app.post('/loki/api/v1/delete', ...guard(policy.checkAdmin), deleteRoute(async (raw, req) => await addDelete(raw, tenants.one(req), deletes)))
  app.get('/loki/api/v1/delete', ...guard(policy.checkAdmin), deleteRoute(async (_raw, req) => await listDeletes(tenants.one(req), deletes)))
  app.delete('/loki/api/v1/delete', ...guard(policy.checkAdmin), deleteRoute(async (raw, req) => await cancelDelete(raw, tenants.one(req), deletes)))
  app.all('/loki/api/v1/delete', methodNotAllowed('GET, HEAD, POST, DELETE'))
  app.get('/loki/api/v1/status/buildinfo', ...guard(policy.checkQuery), route(() => {
    const info = buildInfo(LOKI_API_VERSION)
    return json(info.status, info.body)
  }))
  app.all('/loki/api/v1/status/buildinfo', methodNotAllowed('GET, HEAD'))
  // The tail is a WebSocket (server.ts answers the upgrade); a plain request is told so.
  app.all('/loki/api/v1/tail', (req: Request) => {
    throw new BadRequestError(`${req.method} ${req.path} is a WebSocket endpoint: connect with "Connection: Upgrade" and "Upgrade: websocket" (Grafana and logcli do); for a plain HTTP tail use GET /logs/tail`)
  })

  app.get('/services', ...guard(policy.checkQuery), route((req) => listServices(req.query as Record<string, unknown>, router, tenants.one(req), req.headers.accept)))
  app.all('/services', methodNotAllowed('GET, HEAD'))

  app.get('/healthz', route(() => {
    const detail = router.healthDetail()
    if (detail === null) {
      return router.healthy
        ? json(200, '{"status":"ok"}')
        : json(503, JSON.stringify({ status: router.ready ? 'degraded' : 'starting', error: 'not every shard is ready; retry in a moment', code: 'LOGAGG_ERR_NOT_READY' }))
    }
    // Cluster mode: which partitions this instance owns and whether it reaches NATS.
    return router.healthy
      ? json(200, JSON.stringify({ status: 'ok', cluster: detail }))
      : json(503, JSON.stringify({ status: router.ready ? 'degraded' : 'starting', error: 'NATS is unreachable from this instance (ingest answers 503); retry in a moment', code: 'LOGAGG_ERR_NOT_READY', cluster: detail }))
  }))
  app.all('/healthz', methodNotAllowed('GET, HEAD'))
  // The API description, open like /healthz (it says nothing about the logs held).
  app.get('/openapi.json', route(openapiDocument()))
  app.all('/openapi.json', methodNotAllowed('GET, HEAD'))

  // Prometheus scrapes here; METRICS_TOKEN alone guards it (open when unset, like /healthz).
  app.get('/metrics', ...guard(policy.checkMetrics), async (_req, res) => {
    const text = await metrics.render(router)
    res.setHeader('content-type', metrics.contentType)
    res.end(text)
  })
  app.all('/metrics', methodNotAllowed('GET, HEAD'))

  // The explorer's page at / for browsers (Accept prefers text/html) and its files under /ui/.
  app.use(explorerRoutes())
  // Elasticsearch's bulk API and the handshakes its clients make first, at / and under /insert/elasticsearch/.
  const es = esRoutes(router, settings, log, policy)
  app.use('/insert/elasticsearch', es)
  app.use(es)

  // Other methods on an ingest path: 405 (paths with other routes, as /logs, said so above).
  for (const protocol of INGEST_PROTOCOLS) for (const path of protocol.paths) app.all(path, methodNotAllowed(protocol.methods.join(', ')))

  const ingestRoutes = INGEST_PROTOCOLS.map((p) => `${p.methods[0]} ${p.paths[0]}`).join(', ')
  app.use((req: Request) => {
    throw new NotFoundError(`no route for ${req.method} ${req.path}; the routes are ${ingestRoutes} (ingest), GET /logs, GET /logs/tail, GET /logs/volume, GET /loki/api/v1/query_range, /query, /labels, /label/<name>/values, /series, /index/stats, /detected_fields, /status/buildinfo, /delete (POST, GET, DELETE) and the WebSocket /tail, GET /services, GET /healthz, GET /metrics, the explorer (GET / from a browser, /ui/), the Elasticsearch handshakes (GET /, /_license, /_nodes/http, /_cluster/health, /_cat/health, index templates) and GET /openapi.json (which describes them all)`)
  })

  // Errors raised before a route's own handler (token, Origin, shutdown, method, no route)
  // are answered in the shape the path's protocol speaks: a Loki or OTLP client reads them as its own.
  app.use((err: HttpError & { allow?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy()
      return
    }
    const extra: Record<string, string> = {}
    if (err.allow !== undefined) extra.allow = err.allow
    if (hasLargeUnreadBody(req)) extra.connection = 'close'
    const protocol = protocolAt(req.path)
    const e = describeError(err, settings.maxBody, log, { method: req.method, url: req.originalUrl })
    e.headers = { ...e.headers, ...extra }
    if (protocol !== undefined) {
      protocol.send(res, protocol.error(e, req))
    } else if (req.path.startsWith('/loki/api/v1/')) {
      const answer = lokiQueryError(e.status, e.message)
      send(res, { status: answer.status, body: answer.body, headers: e.headers })
    } else {
      send(res, jsonError(e))
    }
  })
  return app
}
