import { createHash, randomBytes } from 'node:crypto'
import { RequestError, TimeoutError, type NatsConnection } from '@nats-io/transport-node'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { ClusterUnavailableError, NotInClusterError, QueryTimeoutError, SHARD_ERRORS, retryAfter } from '../core/errors.js'
import { ownerTest } from '../core/hash.js'
import type { LogRecord } from '../ingest/record.js'
import { putLines, putStreams, tenantSink } from '../ingest/shard-ingest.js'
import type { LabelMatcher } from '../logql/ast.js'
import { ingestRequest } from '../shards/ingest-context.js'
import type { Shard, ShardState, StoredLines, StoredStreams } from '../shards/shard.js'
import { NO_USAGE, type LineBatch, type QueryPart, type ServiceStats, type ShardCounters, type ShardQuery, type StreamBatch, type StreamStats, type TailBatch, type Usage } from '../store/shard-messages.js'
import { BatchWriter } from './entry-batch.js'
import type { Membership } from './membership.js'
import { NOT_OWNER, type ClusterReply, type ClusterRequest } from './messages.js'
import type { ClusterNames } from './names.js'
import { pack, unpack } from './wire.js'

// One partition as the front's router sees it (the Shard interface), in
// cluster mode. Ingest: the front validates and decodes the entries exactly
// as a shard would (putLines / putStreams into a BatchWriter), publishes
// them to the partition's subject with a message id named after the request,
// and settles once JetStream acknowledged every message. Queries: asked of
// the partition's owner over NATS request-reply, after reading the
// partition's last sequence, which the owner waits to have applied.
//
//   router ──► PartitionShard p ──publish──► JetStream <cluster>.p.<p>
//                      └──request──► owner's <cluster>.q.<instance> ──► its shards

export interface PartitionShardOptions {
  partition: number
  partitions: number
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  names: ClusterNames
  membership: Membership
  /** ms a query may take (QUERY_TIMEOUT), when the query carries no deadline. */
  queryTimeout: number
  /** Whether NATS is connected (the cluster watches the connection). */
  connected: () => boolean
  /** Seconds one message took from publish to acknowledgement (publish latency, for /metrics). */
  onPublished: (seconds: number) => void
}

/** Attempts per message, each with its own ack timeout, before the request answers 503 (the same message id every time). */
const PUBLISH_ATTEMPTS = 3
const PUBLISH_TIMEOUT_MS = 2000
/** ms between two looks for a partition's owner while none answers. */
const OWNER_POLL_MS = 100
/** Bytes of one partition's answer at most, below NATS's default max_payload (1 MiB); a page stops early and its cursor goes on. */
export const REPLY_BYTES = 768 * 1024

const NO_COUNTERS: ShardCounters = Object.freeze({ purgeRuns: 0, purgedEntries: 0, purgeSeconds: 0, idleSeals: 0, purgedByRule: {} })

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const unavailable = (message: string): Error => retryAfter(new ClusterUnavailableError(`${message}; retry in 1s`), 1)

export class PartitionShard implements Shard {
  readonly restarts = 0
  readonly usage: Usage = NO_USAGE
  readonly recovery = null
  readonly timings = null
  readonly lentBytes = 0
  private readonly owns: (service: string) => boolean
  private readonly subject: string

  constructor (private readonly o: PartitionShardOptions) {
    this.owns = ownerTest({ partitions: o.partitions, owned: [o.partition] })
    this.subject = o.names.partition(o.partition)
  }

  get id (): number { return this.o.partition }
  get state (): ShardState { return this.o.connected() ? 'ready' : 'down' }

  whenReady (): Promise<void> {
    return Promise.resolve()
  }

  async ingest (records: readonly LogRecord[]): Promise<number[]> {
    const writer = new BatchWriter()
    for (const r of records) writer.add(r)
    await this.publish(writer)
    return []
  }

  async ingestLines (batch: LineBatch): Promise<StoredLines> {
    const writer = new BatchWriter()
    const put = putLines(batch, this.owns, tenantSink(batch.tenant, writer))
    await this.publish(writer)
    return { count: put.count, rejected: put.rejected, rejectedCount: put.rejectedCount, misrouted: put.misrouted, full: [] }
  }

  async ingestStreams (batch: StreamBatch): Promise<StoredStreams> {
    const writer = new BatchWriter()
    const put = putStreams(batch, this.owns, tenantSink(batch.tenant, writer))
    await this.publish(writer)
    return { count: put.count, rejected: put.rejected, rejectedCount: put.rejectedCount, full: [] }
  }

  /**
   * Publishes the writer's messages; resolves once JetStream acknowledged
   * each. A message's id is the request's (its Idempotency-Key, or a random
   * one), the partition, the call's number within the request and the
   * message's: a retried publish, or a request sent again with its key, is
   * stored once.
   */
  private async publish (writer: BatchWriter): Promise<void> {
    const messages = writer.messages()
    if (messages.length === 0) return
    const ctx = ingestRequest()
    const p = this.o.partition
    let base: string
    let call = 0
    if (ctx !== undefined && ctx.key !== null) {
      base = `k${createHash('sha256').update(ctx.key).digest('base64url').slice(0, 32)}`
      call = ctx.calls.get(p) ?? 0
      ctx.calls.set(p, call + 1)
    } else {
      base = `r${randomBytes(12).toString('base64url')}`
    }
    await Promise.all(messages.map((data, i) => this.publishOne(data, `${base}.${p}.${call}.${i}`)))
  }

  private async publishOne (data: Uint8Array, msgID: string): Promise<void> {
    let last: unknown = null
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
      // Disconnected, the client would only buffer the message until its ack timeout.
      if (!this.o.connected()) {
        last = new Error('not connected to NATS')
        break
      }
      const started = performance.now()
      try {
        await this.o.js.publish(this.subject, data, { msgID, timeout: PUBLISH_TIMEOUT_MS })
        this.o.onPublished((performance.now() - started) / 1000)
        return
      } catch (err) {
        last = err
      }
    }
    throw unavailable(`JetStream did not acknowledge the entries of partition ${this.o.partition} (${(last as Error).message}): NATS is unreachable or has no quorum, and nothing of this request is acknowledged`)
  }

  /** The partition's last stream sequence now (0 when it has none): what a query must see. */
  private async lastSeq (): Promise<number> {
    try {
      const m = await this.o.jsm.streams.getMessage(this.o.names.stream, { last_by_subj: this.subject })
      return m?.seq ?? 0
    } catch (err) {
      if (/no message found/i.test((err as Error).message)) return 0
      throw unavailable(`NATS could not say how far partition ${this.o.partition} goes (${(err as Error).message})`)
    }
  }

  /** Asks the partition's owner; waits for one (a takeover in progress) until the deadline, then a 503. */
  private async ask<T extends ClusterReply['type']> (req: ClusterRequest, expect: T, deadline: number): Promise<Extract<ClusterReply, { type: T }>> {
    const { membership, nc, names, partition: p } = this.o
    let owner = membership.ownerOf(p)
    for (;;) {
      if (owner === undefined) {
        if (Date.now() + OWNER_POLL_MS >= deadline) throw unavailable(`partition ${p} has no owner at the moment (an instance is taking it over)`)
        await sleep(OWNER_POLL_MS)
        owner = await membership.readOwner(p).catch(() => undefined)
        continue
      }
      let reply: ClusterReply
      try {
        const msg = await nc.request(names.queries(owner), pack(req), { timeout: Math.max(OWNER_POLL_MS, deadline - Date.now()) })
        reply = unpack<ClusterReply>(msg.data)
      } catch (err) {
        if (err instanceof TimeoutError || (err as Error).cause instanceof TimeoutError) throw retryAfter(new QueryTimeoutError(`the owner of partition ${p} did not answer within QUERY_TIMEOUT; retry in a moment`), 1)
        const gone = err instanceof RequestError && err.isNoResponders()
        if (!gone) throw unavailable(`the owner of partition ${p} could not be asked (${(err as Error).message})`)
        // The owner went away: look again, until the deadline.
        owner = undefined
        continue
      }
      if (reply.type === expect) return reply as Extract<ClusterReply, { type: T }>
      if (reply.type === 'error' && reply.code === NOT_OWNER) {
        owner = undefined
        continue
      }
      if (reply.type === 'error') {
        const E = SHARD_ERRORS[reply.code]
        const err = E === undefined ? new ClusterUnavailableError(reply.message) : new E(reply.message)
        throw reply.retryAfter === undefined ? err : retryAfter(err, reply.retryAfter)
      }
      throw new Error(`partition ${p}'s owner answered ${reply.type} to ${req.type}`)
    }
  }

  async query (query: ShardQuery): Promise<QueryPart[]> {
    const deadline = query.deadline ?? Date.now() + this.o.queryTimeout
    const upTo = await this.lastSeq()
    const q = { ...query, maxBytes: Math.min(query.maxBytes, REPLY_BYTES) }
    return (await this.ask({ type: 'query', partition: this.o.partition, upTo, query: q }, 'parts', deadline)).parts
  }

  release (): void {}

  // Retention rules and delete requests (LIMITS_FILE, /loki/api/v1/delete) go from the server to
  // this instance's own shard workers, which own the partitions it holds (server.ts); a partition
  // here is a view of whichever instance owns it, so there is nothing to send through it.
  async setRetention (): Promise<void> {}
  async setDeletions (): Promise<void> {}

  async services (after: string | null, limit: number, tenant?: string): Promise<{ services: ServiceStats[], complete: boolean }> {
    const upTo = await this.lastSeq()
    const r = await this.ask({ type: 'services', partition: this.o.partition, upTo, after, limit, ...(tenant === undefined ? {} : { tenant }) }, 'services', Date.now() + this.o.queryTimeout)
    return { services: r.services, complete: r.complete }
  }

  async streams (start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants?: string[]): Promise<{ streams: StreamStats[], complete: boolean }> {
    const upTo = await this.lastSeq()
    const r = await this.ask({ type: 'streams', partition: this.o.partition, upTo, start, end, selector, limit, ...(tenants === undefined ? {} : { tenants }) }, 'streams', Date.now() + this.o.queryTimeout)
    return { streams: r.streams, complete: r.complete }
  }

  async tail (): Promise<{ batches: TailBatch[], unknown: number[] }> {
    throw new NotInClusterError('live tails are not available in cluster mode yet; poll GET /logs with a cursor instead')
  }

  async stats (): Promise<{ usage: Usage, counters: ShardCounters } | null> {
    return this.o.connected() ? { usage: NO_USAGE, counters: NO_COUNTERS } : null
  }

  async close (): Promise<void> {}
}
