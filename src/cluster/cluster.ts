import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { Gauge, Histogram, type Registry } from 'prom-client'
import type { Logger } from 'pino'
import type { Settings } from '../settings/settings.js'
import { ShardRouter } from '../shards/router.js'
import type { Shard } from '../shards/shard.js'
import { openJetStream, type JetStream } from './jetstream-setup.js'
import { Membership } from './membership.js'
import { clusterNames } from './names.js'
import { OwnerService } from './owner-service.js'
import { PartitionFeeds } from './partition-feed.js'
import { PartitionShard, REPLY_BYTES } from './partition-shard.js'

// Cluster mode (NATS_URL), wired: this instance's own shards (worker
// threads) hold the partitions it owns; the front's router is given one
// PartitionShard per partition instead of the shards themselves.
//
//   HTTP ─► front router ─► PartitionShard[p] ──publish──► JetStream stream <cluster>
//                               │                              │ <cluster>.p.<n>
//                               └─request─► owner of p ◄─feed──┘ (ordered consumer per owned partition)
//                                           OwnerService ─► its own router ─► its worker shards
//   Membership: heartbeats and leases in KV <cluster>-members, rendezvous hashing over live members

export interface ClusterHealth {
  instance: string
  nats: 'connected' | 'disconnected'
  members: readonly string[]
  /** Partitions this instance holds the lease of and consumes. */
  owned: number[]
  /** The last error of the membership tick, or null. */
  error: string | null
  /** Why this instance gave its partitions up for good (one of its shard workers died), or null. */
  retired: string | null
}

export interface Cluster {
  readonly instance: string
  /** The partitions, as the front's router sees them. */
  readonly shards: readonly Shard[]
  health (): ClusterHealth
  /**
   * Gives every partition up for good and stops consuming: what a shard
   * worker held died with it, and replaying its part alone cannot be told
   * apart from what the others hold. The others take the partitions over from
   * the stream; this instance goes on taking requests as a front only.
   */
  retire (why: string): void
  /** Gives the partitions back (others take them at once), stops consuming, closes NATS and this instance's shards. */
  close (): Promise<void>
}

export interface ClusterOptions {
  settings: Settings
  log: Logger
  /** This instance's own shards (ready or starting). */
  workers: readonly Shard[]
  /** Where the cluster's metrics are registered (ServerMetrics.registry). */
  registry: Registry
}

/** A name for this instance, unique across restarts: the host, the process and a random part (safe in NATS subjects). */
function instanceName (): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 24)
  return `${host}-${process.pid}-${randomBytes(4).toString('hex')}`
}

export async function startCluster (o: ClusterOptions): Promise<Cluster> {
  const { settings, log, workers, registry } = o
  const instance = instanceName()
  const names = clusterNames(settings.clusterName)
  const partitions = settings.clusterPartitions
  const nats: JetStream = await openJetStream({
    servers: settings.natsUrl.split(','),
    names,
    partitions,
    replicas: settings.natsReplicas,
    retention: settings.retention,
    maxBytes: settings.clusterMaxBytes,
    leaseTimeout: settings.clusterLeaseTimeout,
    instance,
    connectTimeout: 5000
  })
  const { nc, js, jsm, kv } = nats
  let connected = true
  ;(async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected = false
        log.warn({ server: s.server }, 'NATS connection lost; ingest answers 503 until it is back')
      } else if (s.type === 'reconnect') {
        connected = true
        log.info({ server: s.server }, 'NATS connection back')
      }
    }
  })().catch(() => {})

  // This instance's shards behind a router of their own: the owner's side of queries.
  const local = new ShardRouter(workers, { ...settings, maxDisk: Infinity, maxPageBytes: Math.floor(REPLY_BYTES / workers.length) })
  await local.start()
  const feeds = new PartitionFeeds({ js, names, shards: workers, log })
  const membership = new Membership({
    kv,
    instance,
    partitions,
    leaseTimeout: settings.clusterLeaseTimeout,
    log,
    onGain: (p) => feeds.start(p),
    onLose: (p, why) => feeds.stop(p, why)
  })
  const owner = new OwnerService({ nc, subject: names.queries(instance), feeds, local, partitions, queryTimeout: settings.queryTimeout, log })

  const published = new Histogram({ name: 'logagg_cluster_publish_seconds', help: 'Cluster mode: from publishing one message of entries to JetStream to its acknowledgement', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] })
  const shards = Array.from({ length: partitions }, (_, partition) => new PartitionShard({
    partition, partitions, nc, js, jsm, names, membership, queryTimeout: settings.queryTimeout, connected: () => connected, onPublished: (s) => published.observe(s)
  }))
  /* eslint-disable no-new -- registered with the registry, which reads them at scrape time */
  new Gauge({
    name: 'logagg_cluster_partition_owned',
    help: 'Cluster mode: 1 for each partition this instance owns (holds the lease of and consumes), 0 for the others',
    labelNames: ['partition'],
    registers: [registry],
    collect () {
      const mine = new Set(membership.owned)
      for (let p = 0; p < partitions; p++) this.set({ partition: String(p) }, mine.has(p) ? 1 : 0)
    }
  })
  new Gauge({
    name: 'logagg_cluster_consumer_lag_messages',
    help: 'Cluster mode: messages of an owned partition in the stream and not yet applied to this instance\'s shards',
    labelNames: ['partition'],
    registers: [registry],
    collect () {
      this.reset()
      for (const p of feeds.running) this.set({ partition: String(p) }, feeds.lag(p))
    }
  })
  new Gauge({
    name: 'logagg_cluster_nats_connected',
    help: 'Cluster mode: 1 while this instance is connected to NATS',
    registers: [registry],
    collect () { this.set(connected ? 1 : 0) }
  })
  new Gauge({
    name: 'logagg_cluster_members',
    help: 'Cluster mode: live instances in the member bucket, as this instance last read it',
    registers: [registry],
    collect () { this.set(membership.members.length) }
  })
  /* eslint-enable no-new */

  membership.start()
  const fence = setInterval(() => membership.checkFence(), Math.max(50, Math.floor(settings.clusterLeaseTimeout / 4)))
  fence.unref()
  log.info({ instance, cluster: settings.clusterName, partitions, replicas: settings.natsReplicas, nats: settings.natsUrl }, 'joined the cluster')

  let closing: Promise<void> | null = null
  let retired: string | null = null
  return {
    instance,
    shards,
    health: () => ({ instance, nats: connected ? 'connected' : 'disconnected', members: membership.members, owned: membership.owned, error: membership.lastError, retired }),
    retire: (why) => {
      if (retired !== null) return
      retired = why
      feeds.close()
      membership.close().catch(() => {})
    },
    close: () => {
      closing ??= (async () => {
        clearInterval(fence)
        await membership.close().catch(() => {})
        feeds.close()
        owner.close()
        await nc.drain().catch(() => nc.close())
        await local.close()
      })()
      return closing
    }
  }
}
