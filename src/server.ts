// How the pieces connect (the README's "How it works" has the whole picture):
//
//   HTTP clients ──► front thread: node:http fast path, Express for the rest
//                    ingest: http/ingest/ protocols → shards/ingest-pipeline.ts ──► Shard (shards/shard.ts)
//                    queries: fan out to the owning shards, merge (shards/page.ts)     worker transport
//   syslog senders ──► syslog/listener.ts ──► the same router                          (transport/worker/):
//                                                                                     one thread per shard,
//                                                                                     store/ shard-handler.ts
//   FRONTS > 1: more front threads on the same port (fronts/), each with a port to every shard worker
//
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { serveHttp } from './http/front.js'
import type { Settings } from './settings/settings.js'
import { ShardRouter } from './shards/router.js'
import { SharedSeqs } from './shards/seqs.js'
import { ownershipOf } from './core/hash.js'
import type { ShardInit } from './store/shard-messages.js'
import { WorkerShard, type WorkerShardOptions } from './transport/worker/worker-shard.js'
import { ServerMetrics } from './metrics/server-metrics.js'
import { checkMeta, freeBytes, lockDataDir, type DataDirLock } from './store/disk/data-dir.js'
import { startSyslog, type SyslogListener } from './syslog/listener.js'
import { FrontPool, reusePortWorks } from './fronts/front-pool.js'
import { StartError, listenError } from './start-error.js'
import { startCluster, type Cluster } from './cluster/cluster.js'
import { ClusterSetupError } from './cluster/jetstream-setup.js'
import type { Shard } from './shards/shard.js'
import { WatchedFileError } from './tenants/watched-file.js'
import { openLimits } from './tenants/limits-source.js'
import { retentionSpec } from './shards/retention-spec.js'
import { DeleteRequests } from './shards/delete-requests.js'
import { join } from 'node:path'
import type { RetentionSpec } from './store/retention.js'

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
  /** Reads TOKENS_FILE (and LIMITS_FILE) again on every front (SIGHUP); a bad file is logged and the one in force stays. */
  reload (): void
  /** requestsStarted: requests the connection queue let in; workers: the shards' worker transport (to crash or stall them). */
  readonly [kTestInternals]: { readonly requestsStarted: number, readonly workers: readonly WorkerShard[] }
}

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
  const clustered = settings.natsUrl !== ''
  // JetStream is the log of record in cluster mode: an instance's shards are rebuilt from it.
  if (clustered && settings.dataDir !== '') throw new StartError('DATA_DIR and NATS_URL cannot be set together: in cluster mode JetStream keeps the entries (NATS_REPLICAS copies) and each instance replays its partitions from it; unset DATA_DIR')
  const metrics = new ServerMetrics(settings.metricsMaxTenants)
  const heapMb = Math.ceil((settings.maxMemory / settings.shards / 1048576) * HEAP_HEADROOM) + 256
  const data = settings.dataDir === '' ? null : openDataDir(settings, log)
  const startedAt = performance.now()
  // LIMITS_FILE: its retention goes to the shards at start, again whenever it changes, and to a shard that restarted.
  let workers: WorkerShard[] = []
  let retention: RetentionSpec | null = null
  const sendRetention = (): void => { for (const w of workers) w.setRetention(retention).catch(() => {}) }
  // Delete requests: kept here, in DATA_DIR when there is one; in force on every shard once processed.
  const deletes = new DeleteRequests({
    file: settings.dataDir === '' ? null : join(settings.dataDir, 'delete-requests.json'),
    cancelPeriodMs: settings.deleteCancelPeriod,
    retentionMs: settings.retention,
    send: (list) => { for (const w of workers) w.setDeletions(list).catch(() => {}) },
    log
  })
  let limits
  try {
    limits = openLimits(settings.limitsFile, settings.retention, log, (table) => {
      retention = retentionSpec(table)
      sendRetention()
    })
  } catch (err) {
    data?.lock.release()
    throw err instanceof WatchedFileError ? new StartError(err.message) : err
  }
  retention = retentionSpec(limits.table())
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
    nice: settings.shardNice,
    tenantRetention: retention,
    deletions: deletes.inForce()
  }
  // FRONTS > 1: front threads beyond this one, started once the shards are ready and this front listens.
  const fronts = settings.fronts > 1 && reusePortWorks() && !clustered ? settings.fronts : 1
  let pool: FrontPool | null = null
  // Cluster mode (NATS_URL): set once the cluster is joined, below.
  let cluster: Cluster | null = null
  const workerOptions: WorkerShardOptions = {
    maxHeapMb: heapMb,
    ...(options.shardWorkerFile === undefined ? {} : { workerFile: options.shardWorkerFile }),
    onEvent: (event, detail) => {
      if (event === 'crashed') {
        if (cluster !== null) {
          log.error(detail, 'shard worker died; this instance gives its partitions up (the others replay them from the stream) and goes on as a front only: restart it to own partitions again')
          cluster.retire(`shard worker ${detail.shard} died: restart this instance to own partitions again`)
        } else {
          log.error(detail, data === null ? 'shard worker died; its entries are lost, restarting it' : 'shard worker died; restarting it, it reloads its entries from DATA_DIR')
        }
        pool?.shardDown(detail.shard)
      } else log.warn(detail, 'shard worker restarted')
    },
    onReady: (shard) => {
      pool?.shardReady(shard)
      if (retention !== null) workers[shard]?.setRetention(retention).catch(() => {})
      workers[shard]?.setDeletions(deletes.inForce()).catch(() => {})
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
  workers = Array.from({ length: settings.shards }, (_, shard) => new WorkerShard({ ...shardInit, shard, owns: ownershipOf(shard, settings.shards) }, workerOptions))
  const seqs = SharedSeqs.create()
  // Cluster mode: the router sees the partitions (cluster/), whose owners' shards are these workers.
  if (clustered) {
    try {
      cluster = await startCluster({ settings, log, workers, registry: metrics.registry })
    } catch (err) {
      await Promise.all(workers.map((w) => w.close()))
      throw err instanceof ClusterSetupError ? new StartError(err.message, { cause: err }) : err
    }
  }
  const shards: readonly Shard[] = cluster?.shards ?? workers
  const joined = cluster
  const health = joined === null ? undefined : () => { const h = joined.health(); return { ok: h.nats === 'connected' && h.retired === null, detail: { ...h } } }
  const router = new ShardRouter(shards, { ...settings, maxDisk: data?.maxDisk ?? Infinity }, metrics, { seqs: new SharedSeqs(seqs), front: 0, limits: limits.of, rateShare: 1 / fronts, ...(health === undefined ? {} : { health }) })
  if (settings.ingestToken !== '' && settings.authToken === '' && settings.queryToken === '') {
    log.warn('only INGEST_TOKEN is set: writes need a token but GET /logs and GET /services are open to anyone who can reach the server; set QUERY_TOKEN or AUTH_TOKEN to protect reads')
  }
  if (clustered && settings.fronts > 1) log.warn({ fronts: settings.fronts }, 'cluster mode runs one front thread per instance: run more instances instead of FRONTS')
  else if (settings.fronts > 1 && fronts === 1) log.warn({ fronts: settings.fronts, node: process.versions.node }, 'FRONTS needs Node 22.12 or later (server.listen reusePort): running one front thread')

  let front
  try {
    front = await serveHttp(router, settings, log, metrics, { front: 0, reusePort: fronts > 1, deletes })
  } catch (err) {
    data?.lock.release()
    await router.close()
    await cluster?.close()
    if (err instanceof WatchedFileError) throw new StartError(err.message)
    throw listenError(err as NodeJS.ErrnoException, settings.host, settings.port)
  }
  const { http } = front
  const { port } = http.address() as AddressInfo
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
    if (fronts > 1) {
      // The shared counter is above every reloaded entry (router.start) before another front takes from it.
      const started = new FrontPool(settings, workers, seqs, log, () => metrics.render(router), fronts - 1, deletes)
      pool = started
      metrics.otherFronts = () => started.metrics()
      await started.start(port)
      log.info({ fronts }, 'front threads listening')
    }
    syslog = await startSyslog(settings, router, log)
  } catch (err) {
    await front.close()
    await pool?.close()
    await router.close()
    await cluster?.close()
    data?.lock.release()
    throw err
  }

  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  let closing: Promise<void> | null = null

  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Syslog stops accepting too; frames already read are stored before the shards stop.
      const syslogStopped = syslog?.close()
      await Promise.all([front.close(), pool?.close()])
      await syslogStopped
      const entries = router.storedEntries
      limits.close()
      deletes.close()
      await router.close()
      // Gives the partitions back at once, then stops this instance's shards.
      await cluster?.close()
      data?.lock.release()
      log.info({ entries }, 'shards stopped')
    })()
    return closing
  }

  const reload = (): void => {
    limits.reload()
    front.reload()
    pool?.reload()
  }

  return { url: `http://${host}:${port}`, port, router, metrics, http, syslog, close, reload, [kTestInternals]: { get requestsStarted () { return front.requestsStarted }, workers } }
}
