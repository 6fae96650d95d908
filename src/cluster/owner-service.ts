import type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import { shardOf } from '../core/hash.js'
import type { ShardRouter } from '../shards/router.js'
import type { QueryPart, ServiceStats, StreamStats } from '../store/shard-messages.js'
import { NOT_OWNER, type ClusterReply, type ClusterRequest } from './messages.js'
import type { PartitionFeeds } from './partition-feed.js'
import { pack, unpack } from './wire.js'

// The owner's answers to other instances (and its own front): on its query
// subject, each request names one partition; it waits until the partition
// is applied up to the request's sequence, runs the request on its own
// shards restricted to that partition (ShardQuery.partitions) and answers
// with their parts as they are, for the asking front to merge with the rest.

export interface OwnerServiceOptions {
  nc: NatsConnection
  subject: string
  feeds: PartitionFeeds
  /** This instance's own shards, behind a router of their own (admission, timeouts, lent parts). */
  local: ShardRouter
  partitions: number
  /** ms (QUERY_TIMEOUT). */
  queryTimeout: number
  log: Logger
}

/** Pages of services read from the shards for one answer at most (each filtered down to the partition's). */
const MAX_SERVICE_PAGES = 64

/** The service of a stream's sorted label pairs. */
function serviceOf (labels: string[]): string {
  for (let i = 0; i < labels.length; i += 2) if (labels[i] === 'service') return labels[i + 1]!
  return ''
}

export class OwnerService {
  private readonly sub: Subscription

  constructor (private readonly o: OwnerServiceOptions) {
    this.sub = o.nc.subscribe(o.subject, { callback: (err, msg) => { if (err === null) this.handle(msg) } })
  }

  private handle (msg: Msg): void {
    this.answer(msg).then((reply) => this.respond(msg, reply), (err: unknown) => {
      const e = err as Error & { code?: string, retryAfter?: number }
      this.respond(msg, pack({ type: 'error', code: e.code ?? 'LOGAGG_ERR_CLUSTER_UNAVAILABLE', message: e.message, ...(e.retryAfter === undefined ? {} : { retryAfter: e.retryAfter }) } satisfies ClusterReply))
    })
  }

  private respond (msg: Msg, reply: Uint8Array): void {
    try {
      msg.respond(reply)
    } catch (err) {
      // Most likely larger than NATS's max_payload.
      msg.respond(pack({ type: 'error', code: 'LOGAGG_ERR_QUERY_TOO_EXPENSIVE', message: `the answer of one partition did not fit in a NATS message (${(err as Error).message}); narrow the query` } satisfies ClusterReply))
    }
  }

  /** The packed reply to one request. */
  private async answer (msg: Msg): Promise<Uint8Array> {
    const req = unpack<ClusterRequest>(msg.data)
    const { feeds, local, partitions, queryTimeout } = this.o
    const p = req.partition
    if (!feeds.owns(p)) return pack({ type: 'error', code: NOT_OWNER, message: `partition ${p} is not owned by this instance` } satisfies ClusterReply)
    await feeds.whenApplied(p, req.upTo, Date.now() + queryTimeout)
    const mine = { partitions, owned: [p] }
    const ofPartition = (service: string): boolean => shardOf(service, partitions) === p
    switch (req.type) {
      case 'query': {
        const q = req.query
        // The local router asks one more than its limit, as the front did already.
        const parts = await local.query({ ...q, limit: Math.max(1, q.limit - 1), partitions: mine, lend: true }, '/logs')
        const out: QueryPart[] = parts.map((part) => ({ ...part, lent: undefined }))
        // Packed (copied) before the lent memory is given back.
        const bytes = pack({ type: 'parts', parts: out } satisfies ClusterReply)
        local.giveBack(parts)
        return bytes
      }
      case 'services': {
        const services: ServiceStats[] = []
        let after = req.after
        for (let page = 0; page < MAX_SERVICE_PAGES; page++) {
          const got = await local.services(after, req.limit, req.tenant)
          for (const s of got.services) if (ofPartition(s.service)) services.push(s)
          if (!got.more || services.length >= req.limit) return pack({ type: 'services', services: services.slice(0, req.limit), complete: !got.more && services.length <= req.limit } satisfies ClusterReply)
          after = got.services[got.services.length - 1]!.service
        }
        return pack({ type: 'services', services, complete: false } satisfies ClusterReply)
      }
      case 'streams': {
        const got = await local.streams(req.start, req.end, req.selector, req.limit, req.tenants)
        const streams: StreamStats[] = got.streams.filter((s) => ofPartition(serviceOf(s.labels)))
        return pack({ type: 'streams', streams, complete: !got.more } satisfies ClusterReply)
      }
    }
  }

  close (): void {
    this.sub.unsubscribe()
  }
}
