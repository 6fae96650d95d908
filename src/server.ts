// How the pieces connect:
//
//   HTTP clients ──► front thread (Express)                          shard workers (piscina, 1 thread each)
//                    POST /logs: parse, validate, hash service ──► shard k: ShardStore { service → SortedLog }
//                      one batch per shard per event-loop turn       insert sorted by (ts, seq); purge timer
//                    GET /logs: fan out to owning shards  ◄──────── each returns its part, already sorted
//                      k-way merge of the parts, render JSON
//
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { buildApp } from './http/app.js'
import type { Settings } from './settings.js'
import { ShardRouter } from './shards/router.js'

export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly router: ShardRouter
  readonly http: Server
  /** Stops accepting, lets requests in flight finish, stops the shards. */
  close (): Promise<void>
}

/** How long close() waits for requests in flight before cutting their connections. */
const CLOSE_GRACE_MS = 10_000

export async function startServer (settings: Settings, log: Logger): Promise<RunningServer> {
  const router = new ShardRouter(settings.shards, { retention: settings.retention, purgeInterval: settings.purgeInterval })
  const app = buildApp(router, settings, log)
  const http = createServer(app)

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(settings.port, settings.host, () => {
      http.off('error', reject)
      resolve()
    })
  })
  // Listening first lets /healthz answer 503 while the shards start.
  try {
    await router.start()
  } catch (err) {
    http.close()
    await router.close()
    throw err
  }

  const { port } = http.address() as AddressInfo
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  let closing: Promise<void> | null = null

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeIdleConnections()
      const grace = setTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS).unref()
      await stopped
      clearTimeout(grace)
      await router.close()
    })()
    return closing
  }

  return { url: `http://${host}:${port}`, port, router, http, close }
}
