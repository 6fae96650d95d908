import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'

// ACCESS_LOG: one log line per request once its answer is done (or the client
// left): method, route pattern, path without its query string (queries may
// carry tokens or personal data), status, bytes sent, duration, and the
// LOGAGG_ERR code when the answer is a refusal. Off by default: the server
// then installs the plain listener and pays nothing per request.

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** The route pattern Express matched; else /logs (the fast path's) or 'unmatched'. */
function routeOf (req: IncomingMessage, path: string): string {
  const r = req as IncomingMessage & { route?: { path?: unknown }, baseUrl?: string }
  if (typeof r.route?.path === 'string') return `${r.baseUrl ?? ''}${r.route.path}`
  return path === '/logs' ? path : 'unmatched'
}

/**
 * Wraps `handle` to log each request. Bytes are the socket's, headers
 * included: a connection runs one request at a time (connection-queue.ts).
 */
export function accessLogged (handle: Listener, log: Logger): Listener {
  return (req, res) => {
    const started = performance.now()
    const before = req.socket.bytesWritten
    res.once('close', () => {
      const url = req.url ?? ''
      const q = url.indexOf('?')
      const path = q === -1 ? url : url.slice(0, q)
      const code = res.getHeader('logagg-error-code')
      log.info({
        method: req.method,
        route: routeOf(req, path),
        path,
        status: res.statusCode,
        bytes: req.socket.bytesWritten - before,
        ms: Math.round((performance.now() - started) * 100) / 100,
        ...(code === undefined ? {} : { code }),
        ...(res.writableFinished ? {} : { aborted: true })
      }, 'request')
    })
    handle(req, res)
  }
}
