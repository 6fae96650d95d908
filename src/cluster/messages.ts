import type { LabelMatcher } from '../logql/ast.js'
import type { QueryPart, ServiceStats, ShardQuery, StreamStats } from '../store/shard-messages.js'

// What one instance asks another over NATS request-reply (on the owner's
// subject, names.ts) and what it answers, as plain data in msgpack (wire.ts).
// Each request is for one partition and carries the partition's last stream
// sequence when the query started: the owner answers once it has applied
// that much (read your writes).

export type ClusterRequest =
  | { type: 'query', partition: number, upTo: number, query: ShardQuery }
  | { type: 'services', partition: number, upTo: number, after: string | null, limit: number, tenant?: string }
  | { type: 'streams', partition: number, upTo: number, start: number, end: number, selector: LabelMatcher[] | null, limit: number, tenants?: string[] }

export type ClusterReply =
  /** One part per shard of the owner's, each sorted. */
  | { type: 'parts', parts: QueryPart[] }
  | { type: 'services', services: ServiceStats[], complete: boolean }
  | { type: 'streams', streams: StreamStats[], complete: boolean }
  /** Errors cross as a code and a message (core/errors.ts SHARD_ERRORS), as between threads. */
  | { type: 'error', code: string, message: string, retryAfter?: number }

/** An owner that is asked about a partition it does not own (it moved meanwhile). */
export const NOT_OWNER = 'LOGAGG_ERR_NOT_OWNER'
