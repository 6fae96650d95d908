import cors from 'cors'
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import helmet from 'helmet'
import type { Logger } from 'pino'
import { BodyTooLargeError, MethodNotAllowedError, NotFoundError, ShuttingDownError } from '../errors.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { requireToken, type Scope } from './auth.js'
import { checkContentType, postLogs } from './ingest-route.js'
import { getLogs, getServices } from './query-route.js'
import { sendJson } from './send.js'

interface HttpError extends Error {
  statusCode?: number
  status?: number
  code?: string
  type?: string
  retryAfter?: number
}

/** Whether the server has begun shutting down; requests that still arrive get a 503. */
export interface Lifecycle {
  closing: boolean
}

/** Answers 405 with the methods a path does support. */
function methodNotAllowed (allow: string) {
  return (req: Request, res: Response): void => {
    res.setHeader('allow', allow)
    throw new MethodNotAllowedError(`${req.method} is not allowed on ${req.path}; use ${allow}`)
  }
}

export function buildApp (router: ShardRouter, settings: Settings, log: Logger, lifecycle: Lifecycle): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)

  app.use((_req, res, next) => {
    if (!lifecycle.closing) return next()
    res.setHeader('connection', 'close')
    throw new ShuttingDownError()
  })
  // A JSON API: no scripts, frames or sniffing; helmet's defaults say so to browsers.
  app.use(helmet())
  if (settings.corsOrigin !== '') app.use(cors({ origin: settings.corsOrigin, methods: ['GET', 'HEAD', 'POST'], maxAge: 600 }))

  const tokens = { auth: settings.authToken, ingest: settings.ingestToken, query: settings.queryToken }
  const guard = (scope: Scope): RequestHandler[] => {
    const check = requireToken(scope, tokens)
    return check === null ? [] : [check]
  }

  const readBody = express.raw({ type: () => true, limit: settings.maxBody })
  app.post('/logs', ...guard('ingest'), checkContentType, readBody, postLogs(router, settings))
  app.get('/logs', ...guard('query'), getLogs(router, settings))
  app.all('/logs', methodNotAllowed('GET, HEAD, POST'))

  app.get('/services', ...guard('query'), getServices(router))
  app.all('/services', methodNotAllowed('GET, HEAD'))

  app.get('/healthz', (_req, res) => {
    if (router.healthy) sendJson(res, 200, '{"status":"ok"}')
    else sendJson(res, 503, JSON.stringify({ status: router.ready ? 'degraded' : 'starting', error: 'not every shard is ready; retry in a moment', code: 'LOGAGG_ERR_NOT_READY' }))
  })
  app.all('/healthz', methodNotAllowed('GET, HEAD'))

  app.use((req: Request) => {
    throw new NotFoundError(`no route for ${req.method} ${req.path}; the routes are POST /logs, GET /logs, GET /services, GET /healthz`)
  })

  app.use((err: HttpError, req: Request, res: Response, _next: NextFunction) => {
    let status = err.statusCode ?? err.status ?? 500
    let code = err.code ?? 'LOGAGG_ERR_BAD_REQUEST'
    let message = err.message
    if (err.type === 'entity.too.large') {
      const tooLarge = new BodyTooLargeError(settings.maxBody)
      status = tooLarge.statusCode!
      code = tooLarge.code
      message = tooLarge.message
    } else if (err.type !== undefined && status < 500) {
      // body-parser's own errors: aborted uploads, bad Content-Encoding.
      code = status === 415 ? 'LOGAGG_ERR_UNSUPPORTED_MEDIA_TYPE' : 'LOGAGG_ERR_BAD_REQUEST'
    } else if (status >= 500 && !code.startsWith('LOGAGG_')) {
      log.error({ err, method: req.method, url: req.originalUrl }, 'unexpected error')
      code = 'LOGAGG_ERR_INTERNAL'
      message = 'internal error; the server log has the details'
    }
    if (res.headersSent) {
      res.destroy()
      return
    }
    // The client may still be sending a body we will not read: close after answering.
    if (status === 413) res.setHeader('connection', 'close')
    if (err.retryAfter !== undefined) res.setHeader('retry-after', String(err.retryAfter))
    sendJson(res, status, JSON.stringify({ error: message, code }))
  })
  return app
}
