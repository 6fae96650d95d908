import { connect, nanos, type NatsConnection } from '@nats-io/transport-node'
import { DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { ClusterNames } from './names.js'

// The NATS side of a cluster, made or checked once at start: the stream (the
// log of record, one subject per partition) and the member bucket (heartbeats
// and leases). Every instance runs this with the same settings; the first
// makes them, the others find them and check they agree.

export interface JetStreamOptions {
  servers: string[]
  names: ClusterNames
  partitions: number
  replicas: number
  /** ms: stream max_age (RETENTION). */
  retention: number
  /** Bytes the stream keeps at most. */
  maxBytes: number
  /** ms: the member bucket's TTL, so a key not written for this long is gone (CLUSTER_LEASE_TIMEOUT). */
  leaseTimeout: number
  /** The client's name in NATS's monitoring (connz). */
  instance: string
  /** ms to wait for the first connection before the start fails. */
  connectTimeout: number
}

export interface JetStream {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  kv: KV
}

/** Thrown when NATS cannot be reached, or the stream is not what these settings describe; says what to do. */
export class ClusterSetupError extends Error {
  override name = 'ClusterSetupError'
}

/** A retry of a request within this window (the stream's duplicate_window) is stored once. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000

/** What the stream's description says, so an instance started with another CLUSTER_PARTITIONS can tell. */
const describe = (partitions: number): string => `logagg cluster log; partitions=${partitions}`

export async function openJetStream (o: JetStreamOptions): Promise<JetStream> {
  let nc: NatsConnection
  try {
    nc = await connect({ servers: o.servers, name: `logagg ${o.instance}`, timeout: o.connectTimeout, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2000, maxPingOut: 2 })
  } catch (err) {
    throw new ClusterSetupError(`cannot reach NATS at ${o.servers.join(',')} (${(err as Error).message}); start nats-server with JetStream on (-js) or fix NATS_URL`)
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: o.connectTimeout })
    const config: Partial<StreamConfig> & { name: string } = {
      name: o.names.stream,
      description: describe(o.partitions),
      subjects: [o.names.partitions],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: o.replicas,
      max_age: nanos(o.retention),
      max_bytes: o.maxBytes,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, o.retention)),
      // Reads of a partition's last sequence go to the leader, which has every acknowledged message.
      allow_direct: false
    }
    let existing = null
    try {
      existing = await jsm.streams.info(o.names.stream)
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message)) throw err
    }
    if (existing === null) {
      await jsm.streams.add(config)
    } else {
      const had = /partitions=(\d+)/.exec(existing.config.description ?? '')?.[1]
      if (had === undefined) throw new ClusterSetupError(`NATS already has a stream named ${o.names.stream} that is not a logagg cluster's; choose another CLUSTER_NAME`)
      if (Number(had) !== o.partitions) throw new ClusterSetupError(`the stream ${o.names.stream} was made with CLUSTER_PARTITIONS=${had}, not ${o.partitions}: a service's partition is fixed for the life of the stream; start with CLUSTER_PARTITIONS=${had} (or another CLUSTER_NAME for a new cluster)`)
      // Retention and size may change between starts; the last instance started says.
      if (existing.config.max_age !== config.max_age || existing.config.max_bytes !== config.max_bytes) await jsm.streams.update(o.names.stream, { ...existing.config, max_age: config.max_age!, max_bytes: config.max_bytes! })
    }
    const js = jetstream(nc, { timeout: o.connectTimeout })
    await new Kvm(js).create(o.names.bucket, { history: 1, ttl: o.leaseTimeout, replicas: o.replicas, storage: StorageType.File })
    // Heartbeats and leases fail fast: a renewal that waits longer than a share of the lease is as good as lost.
    const kv = await new Kvm(jetstream(nc, { timeout: Math.max(250, Math.floor(o.leaseTimeout / 3)) })).open(o.names.bucket)
    return { nc, js, jsm, kv }
  } catch (err) {
    await nc.close().catch(() => {})
    if (err instanceof ClusterSetupError) throw err
    throw new ClusterSetupError(`NATS at ${o.servers.join(',')} could not set up the cluster's stream and bucket (${(err as Error).message}); check that JetStream is on (-js) and that NATS_REPLICAS (${o.replicas}) servers are in its cluster`)
  }
}
