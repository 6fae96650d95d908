import type { After, QueryPart, ServiceStats, ShardInit } from '../protocol.js'
import { shardOf } from './hash.js'
import { ShardClient } from './shard-client.js'

/** A query as the front thread sends it, before it is split by shard. */
export interface RouterQuery {
  services: string[] | null
  start: number
  end: number
  descending: boolean
  limit: number
  after: After | null
  contains: string | null
}

/**
 * Owns the N shards: routes each service to its shard by hash, hands out the
 * arrival sequence numbers, and fans queries out to the shards involved.
 */
export class ShardRouter {
  readonly shards: ShardClient[]
  private nextSeq = 1
  ready = false

  constructor (count: number, init: Omit<ShardInit, 'shard'>) {
    this.shards = Array.from({ length: count }, (_, shard) => new ShardClient({ ...init, shard }))
  }

  async start (): Promise<void> {
    await Promise.all(this.shards.map((s) => s.hello()))
    this.ready = true
  }

  shardFor (service: string): ShardClient {
    return this.shards[shardOf(service, this.shards.length)]!
  }

  /** Queues one validated entry on its shard; settles once stored. */
  enqueue (service: string, ts: number, message: string): Promise<void> {
    return this.shardFor(service).enqueue(service, ts, this.nextSeq++, message)
  }

  /** Runs `q` on every shard that may hold matches; each part comes back sorted. */
  query (q: RouterQuery): Promise<QueryPart[]> {
    // One more than the limit, so the merge can tell whether another page exists.
    const perShard = { ...q, limit: q.limit + 1 }
    if (q.services === null) return Promise.all(this.shards.map((s) => s.query(perShard)))
    const byShard = new Map<ShardClient, string[]>()
    for (const service of new Set(q.services)) {
      const shard = this.shardFor(service)
      const list = byShard.get(shard)
      if (list === undefined) byShard.set(shard, [service])
      else list.push(service)
    }
    return Promise.all([...byShard].map(([shard, services]) => shard.query({ ...perShard, services })))
  }

  async services (): Promise<ServiceStats[]> {
    const parts = await Promise.all(this.shards.map((s) => s.services()))
    return parts.flat().sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
  }

  async close (): Promise<void> {
    this.ready = false
    await Promise.all(this.shards.map((s) => s.close()))
  }
}
