import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { ShuttingDownError } from '../core/errors.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { errorAnswer, type HttpError } from './answer.js'
import { hasLargeUnreadBody } from './body.js'
import { LOGS } from './ingest/logs.js'
import { ingest } from './ingest/protocol.js'
import type { Lifecycle } from './app.js'
import type { HttpPolicy } from './policy.js'
import { queryLogs } from './query-route.js'
import { parseQueryString, type QueryValues } from './query-string.js'
import { clientGone, send } from './send.js'

// POST /logs and GET /logs, the two hot routes, served straight from
// node:http: Express's per-request machinery (prototype swaps, router walk,
// middleware chain) cost about three quarters of the time of a single-entry
// POST. Everything else, and these routes whenever something unusual is asked
// for (HEAD, CORS), goes to the Express app, which runs the same handlers and
// the same body reader (body.ts).

export interface FastPathDeps {
  router: ShardRouter
  settings: Settings
  log: Logger
  lifecycle: Lifecycle
  policy: HttpPolicy
}

/** Returns a request listener that handles what it can and answers false for the rest. */
export function createFastPath (deps: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { router, settings, log, lifecycle } = deps
  const { headers, checkIngest, checkQuery, checkSource, tenants } = deps.policy
  if (settings.corsOrigin !== '') return () => false

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    if (res.headersSent) {
      res.destroy()
      return
    }
    const answer = errorAnswer(err as HttpError, settings.maxBody, log, { method: req.method, url: req.url })
    // Refused before its body was read: close rather than read a large body we will not use.
    if (hasLargeUnreadBody(req)) answer.headers = { ...answer.headers, connection: 'close' }
    send(res, answer, headers)
  }

  const post = (req: IncomingMessage, res: ServerResponse, query: string | null): void => {
    let values: QueryValues | null
    let tenant: string
    try {
      if (lifecycle.closing) throw new ShuttingDownError()
      checkSource?.(req.headers)
      tenant = tenants.one(req.headers, checkIngest?.(req.headers.authorization))
      values = query === null ? null : parseQueryString(query)
    } catch (err) {
      fail(req, res, err)
      return
    }
    ingest(LOGS, { req, query: values, params: {} }, router, settings, tenant)
      .then((answer) => send(res, answer, headers), (err: unknown) => fail(req, res, err))
  }

  const get = (req: IncomingMessage, res: ServerResponse, query: string): void => {
    let tenant: string
    try {
      if (lifecycle.closing) throw new ShuttingDownError()
      checkSource?.(req.headers)
      tenant = tenants.one(req.headers, checkQuery?.(req.headers.authorization))
    } catch (err) {
      fail(req, res, err)
      return
    }
    const signal = clientGone(res)
    Promise.resolve().then(() => queryLogs(parseQueryString(query), router, settings, tenant, signal, req.headers.accept)).then(
      (answer) => send(res, answer, headers),
      (err: unknown) => fail(req, res, err)
    )
  }

  return function fastPath (req, res) {
    const url = req.url ?? ''
    const q = url.indexOf('?')
    if ((q === -1 ? url : url.slice(0, q)) !== '/logs') return false
    if (req.method === 'POST') {
      post(req, res, q === -1 ? null : url.slice(q + 1))
      return true
    }
    if (req.method === 'GET') {
      get(req, res, q === -1 ? '' : url.slice(q + 1))
      return true
    }
    return false
  }
}
