// How the pieces connect (the README's "How it works" has the whole picture):
//
//   HTTP clients ──► front thread: node:http fast path, Express for the rest
//                    ingest: http/ingest/ protocols → shards/ingest-pipeline.ts ──► Shard (shards/shard.ts)
//                    queries: fan out to the owning shards, merge (shards/page.ts)     worker transport
//   syslog senders ──► syslog/listener.ts ──► the same router                          (transport/worker/):
//                                                                                     one thread per shard,
//                                                                                     store/ shard-handler.ts
//
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { lokiTailSockets } from './http/tail-route.js'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { accessLogged } from './http/access-log.js'
import { buildApp, type Lifecycle } from './http/app.js'
import { connectionQueue } from './http/connection-queue.js'
import { expectContinue } from './http/expect-continue.js'
import { createFastPath } from './http/fast-path.js'
import { lingerOnClose, trackRequest } from './http/linger.js'
import { httpPolicy } from './http/policy.js'
import { upgradeOnlyWebSockets } from './http/upgrade.js'
import type { Settings } from './settings/settings.js'
import { listenError } from './start-error.js'
import { ShardRouter } from './shards/router.js'
import { ownershipOf } from './core/hash.js'
import type { ShardInit } from './store/shard-messages.js'
import { WorkerShard, type WorkerShardOptions } from './transport/worker/worker-shard.js'
import { ServerMetrics } from './metrics/server-metrics.js'
import { checkMeta, freeBytes, lockDataDir, type DataDirLock } from './store/disk/data-dir.js'
import { startSyslog, type SyslogListener } from './syslog/listener.js'

/** Test-only internals (fastify's kTestInternals idea), kept off the public shape. */
export const kTestInternals = Symbol('logagg.testInternals')

export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly router: ShardRouter
  /** What GET /metrics reports. */
  readonly metrics: ServerMetrics
  readonly http: Server
  /** The syslog listeners (SYSLOG_TCP_PORT, SYSLOG_UDP_PORT); null when neither is set. */
  readonly syslog: SyslogListener | null
  /** Stops accepting, lets requests in flight finish, stops the shards. */
  close (): Promise<void>
  /** requestsStarted: requests the connection queue let in; workers: the shards' worker transport (to crash or stall them). */
  readonly [kTestInternals]: { readonly requestsStarted: number, readonly workers: readonly WorkerShard[] }
}

/** How long close() waits for requests in flight before cutting their connections. */
const CLOSE_GRACE_MS = 10_000

/**
 * A shard's heap limit is its share of MAX_MEMORY times this, plus 256 MiB:
 * the store's byte estimate is below what V8 really uses, and a shard that
 * hits its heap limit dies.
 */
const HEAP_HEADROOM = 2

export interface ServerOptions {
  /** A different shard worker module (tests use a fixture that can crash on purpose). */
  shardWorkerFile?: string
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

/**
 * With DATA_DIR, a shard lets blocks that are in files leave memory once it
 * holds half of its part of MAX_MEMORY, so ingest is refused for
 * memory only when what is not yet in block files fills the rest.
 */
const HOT_SHARE = 0.5

/** MAX_DISK when unset: this share of the free space on DATA_DIR's file system at start. */
const DEFAULT_DISK_SHARE = 0.8

/** Locks DATA_DIR and checks its meta.json; returns the lock and MAX_DISK. Throws DataDirError with what to do. */
function openDataDir (settings: Settings, log: Logger): { lock: DataDirLock, maxDisk: number } {
  const lock = lockDataDir(settings.dataDir)
  try {
    checkMeta(settings.dataDir, settings.shards)
  } catch (err) {
    lock.release()
    throw err
  }
  if (lock.tookOverFrom !== null) log.warn({ dataDir: settings.dataDir, ownerPid: lock.tookOverFrom }, 'took over the DATA_DIR lock of a server that is gone (it crashed or was killed)')
  const maxDisk = settings.maxDisk > 0 ? settings.maxDisk : Math.floor(freeBytes(settings.dataDir) * DEFAULT_DISK_SHARE)
  return { lock, maxDisk }
}

export async function startServer (settings: Settings, log: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const metrics = new ServerMetrics()
  const heapMb = Math.ceil((settings.maxMemory / settings.shards / 1048576) * HEAP_HEADROOM) + 256
  const data = settings.dataDir === '' ? null : openDataDir(settings, log)
  const startedAt = performance.now()
  // The shards' transport, chosen here: today worker threads of this process.
  const shardInit: Omit<ShardInit, 'shard' | 'owns'> = {
    retention: settings.retention,
    purgeInterval: settings.purgeInterval,
    maxServices: Math.ceil(settings.maxServices / settings.shards),
    dataDir: settings.dataDir,
    fsync: settings.fsync,
    checkpointMs: settings.checkpointInterval,
    hotWindowMs: settings.hotWindow,
    hotBytes: Math.floor(settings.maxMemory / settings.shards * HOT_SHARE),
    tailShardBytes: settings.tailShardBytes,
    blockCodec: settings.blockCodec,
    nice: settings.shardNice
  }
  const workerOptions: WorkerShardOptions = {
    maxHeapMb: heapMb,
    ...(options.shardWorkerFile === undefined ? {} : { workerFile: options.shardWorkerFile }),
    onEvent: (event, detail) => {
      if (event === 'crashed') log.error(detail, data === null ? 'shard worker died; its entries are lost, restarting it' : 'shard worker died; restarting it, it reloads its entries from DATA_DIR')
      else log.warn(detail, 'shard worker restarted')
    },
    onDiskError: (shard, error) => {
      if (error === null) log.info({ shard }, 'DATA_DIR writes work again')
      else log.error({ shard, error }, 'DATA_DIR write failed')
    },
    onRecovered: (shard, r) => {
      for (const problem of r.problems) log.warn({ shard, problem }, 'damage found in DATA_DIR')
      log.info({ shard, ms: Math.round(r.ms), entries: r.entries, bytes: r.bytes, blockFiles: r.blockFiles, segments: r.segments, records: r.records }, 'shard loaded its data folder')
    }
  }
  const workers = Array.from({ length: settings.shards }, (_, shard) => new WorkerShard({ ...shardInit, shard, owns: ownershipOf(shard, settings.shards) }, workerOptions))
  const router = new ShardRouter(workers, { ...settings, maxDisk: data?.maxDisk ?? Infinity }, metrics)
  if (settings.ingestToken !== '' && settings.authToken === '' && settings.queryToken === '') {
    log.warn('only INGEST_TOKEN is set: writes need a token but GET /logs and GET /services are open to anyone who can reach the server; set QUERY_TOKEN or AUTH_TOKEN to protect reads')
  }
  const lifecycle: Lifecycle = { closing: false }
  const policy = httpPolicy(settings)
  const app = buildApp(router, settings, log, lifecycle, policy, metrics)
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
  const tails = lokiTailSockets(router, settings, policy, log)
  http.on('upgrade', upgradeOnlyWebSockets(http, tails.upgrade))

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(settings.port, settings.host, () => {
        http.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    data?.lock.release()
    throw listenError(err as NodeJS.ErrnoException, settings.host, settings.port)
  }
  // Listening first lets /healthz answer 503 while the shards start.
  let syslog: SyslogListener | null
  try {
    await router.start()
    if (data !== null) {
      let entries = 0
      let bytes = 0
      for (const s of router.shards) {
        entries += s.recovery?.entries ?? 0
        bytes += s.recovery?.bytes ?? 0
      }
      log.info({ dataDir: settings.dataDir, ms: Math.round(performance.now() - startedAt), entries, bytes, maxDisk: data.maxDisk, fsync: settings.fsync }, 'loaded DATA_DIR')
    }
    syslog = await startSyslog(settings, router, log)
  } catch (err) {
    http.close()
    await router.close()
    data?.lock.release()
    throw err
  }

  const { port } = http.address() as AddressInfo
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  let closing: Promise<void> | null = null

  const close = (): Promise<void> => {
    closing ??= (async () => {
      lifecycle.closing = true
      // Syslog stops accepting too; frames already read are stored before the shards stop.
      const syslogStopped = syslog?.close()
      queue.close()
      tails.close()
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeIdleConnections()
      const grace = setTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS).unref()
      await stopped
      clearTimeout(grace)
      await syslogStopped
      const entries = router.storedEntries
      await router.close()
      data?.lock.release()
      log.info({ entries }, 'shards stopped')
    })()
    return closing
  }

  return { url: `http://${host}:${port}`, port, router, metrics, http, syslog, close, [kTestInternals]: { get requestsStarted () { return queue.started }, workers } }
}
