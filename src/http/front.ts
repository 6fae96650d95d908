import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { accessLogged } from './access-log.js'
import { buildApp, type Lifecycle } from './app.js'
import { connectionQueue } from './connection-queue.js'
import { expectContinue } from './expect-continue.js'
import { createFastPath } from './fast-path.js'
import { lingerOnClose, trackRequest } from './linger.js'
import { httpPolicy } from './policy.js'
import { TokenTable } from '../tenants/tokens-file.js'
import { WatchedFile } from '../tenants/watched-file.js'
import type { DeleteApi } from '../shards/delete-requests.js'
import { lokiTailSockets } from './tail-route.js'
import { upgradeOnlyWebSockets } from './upgrade.js'
import type { ServerMetrics } from '../metrics/server-metrics.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'

// One front: the HTTP server of one thread over its router. The first front
// runs in the thread that supervises the shards (server.ts); with FRONTS > 1
// the others run in threads of their own (src/fronts/), each listening on the
// same port with reusePort, so the kernel spreads connections over them.

/** How long close() waits for requests in flight before cutting their connections. */
const CLOSE_GRACE_MS = 10_000

export interface HttpFront {
  readonly http: Server
  readonly lifecycle: Lifecycle
  /** Requests the connection queue let in. */
  readonly requestsStarted: number
  /** Reads TOKENS_FILE again (SIGHUP); a bad file is logged and the one in force stays. */
  reload (): void
  /** Stops accepting and lets requests in flight finish (cut after a grace period); the router is the caller's to close. */
  close (): Promise<void>
}

export interface FrontOptions {
  /** This front's number (0: the supervising thread's), for /metrics. */
  front: number
  /** Listen with reusePort, beside the other fronts on the same port. */
  reusePort: boolean
  /** The delete requests (the list on the first front, messages to it on the others). */
  deletes: DeleteApi
}

/** Node's own answers to broken or slow HTTP, as JSON like every other error. */
function answerClientError (err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (err.code === 'ECONNRESET')) {
    socket.destroy()
    return
  }
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request was not received in time (HEADERS_TIMEOUT / REQUEST_TIMEOUT); send it faster or in one piece']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
        : [400, 'Bad Request', 'the request is not valid HTTP/1.1']
  const body = JSON.stringify({ error: message, code: status === 408 ? 'LOGAGG_ERR_REQUEST_TIMEOUT' : 'LOGAGG_ERR_BAD_REQUEST' })
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

/** Starts a front's HTTP server on settings.port (the port the first front got, for the others) and resolves once it listens. */
export async function serveHttp (router: ShardRouter, settings: Settings, log: Logger, metrics: ServerMetrics, options: FrontOptions): Promise<HttpFront> {
  const lifecycle: Lifecycle = { closing: false }
  // Throws WatchedFileError for a file that cannot be used at start (server.ts stops the start with it).
  const tokens = settings.tokensFile === '' ? null : WatchedFile.open({ setting: 'TOKENS_FILE', path: settings.tokensFile, parse: TokenTable.parse, log })
  const policy = httpPolicy(settings, { tokens: tokens === null ? null : () => tokens.current })
  const app = buildApp(router, settings, log, lifecycle, policy, metrics, options.deletes)
  const fastPath = createFastPath({ router, settings, log, lifecycle, policy })
  const http = createServer({
    headersTimeout: settings.headersTimeout,
    requestTimeout: settings.requestTimeout,
    keepAliveTimeout: settings.keepAliveTimeout,
    // How often Node looks for requests past those timeouts (its default is 30 s).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, settings.headersTimeout / 2))
  })
  lingerOnClose(http, settings.maxBody)
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now()
    trackRequest(req)
    const fast = fastPath(req, res)
    metrics.watch(req, res, fast ? '/logs' : null, started)
    if (!fast) app(req, res)
  }
  const queue = connectionQueue(settings.accessLog ? accessLogged(handle, log) : handle, settings.writeTimeout)
  http.on('request', queue.listener)
  const checkContinue = expectContinue({ settings, log, lifecycle, policy }, queue.listener)
  http.on('checkContinue', (req, res) => {
    trackRequest(req)
    checkContinue(req, res)
  })
  http.on('clientError', answerClientError)
  http.on('connection', () => metrics.accepted(options.front))
  const tails = lokiTailSockets(router, settings, policy, log)
  http.on('upgrade', upgradeOnlyWebSockets(http, tails.upgrade))

  // A failure to listen (EADDRINUSE…) rejects with Node's error; server.ts words it for the user (start-error.ts).
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      tokens?.close()
      reject(err)
    }
    http.once('error', failed)
    http.listen({ port: settings.port, host: settings.host, ...(options.reusePort ? { reusePort: true } : {}) }, () => {
      http.off('error', failed)
      resolve()
    })
  })

  let closing: Promise<void> | null = null
  return {
    http,
    lifecycle,
    get requestsStarted () { return queue.started },
    reload () { tokens?.reload('SIGHUP') },
    close () {
      closing ??= (async () => {
        lifecycle.closing = true
        tokens?.close()
        queue.close()
        tails.close()
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()))
        http.closeIdleConnections()
        const grace = setTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS).unref()
        await stopped
        clearTimeout(grace)
      })()
      return closing
    }
  }
}
