// What the routes and the router tell /metrics, as a small interface with no
// Prometheus in it: the router and the routes count through it, ServerMetrics
// (server-metrics.ts) implements it with prom-client, and code run without a
// server (unit tests, benchmarks) passes NO_METER.

/**
 * How entries arrived: an HTTP ingest protocol's name (http/ingest/registry.ts)
 * or 'syslog'. Bounded by the registry: no value comes from a request.
 */
export type Protocol = string

/**
 * Why entries were not stored: `invalid` (the entry broke a rule: no service,
 * bad time, too long...), `max_services` (a new service past MAX_SERVICES),
 * `queue_full` (429) and `store_full` (507, the whole request refused),
 * `ingestion_rate` (429: the tenant's ingestion_rate_mb, LIMITS_FILE) and
 * `entry_limit` (400: a record past its tenant's max_line_size,
 * max_label_names_per_series or max_structured_metadata_entries_count).
 */
export type RejectReason = 'invalid' | 'max_services' | 'queue_full' | 'store_full' | 'ingestion_rate' | 'entry_limit'

/** Why a request was refused before anything was stored: the 429/507 admission checks. */
export type RefusalReason = 'queue_full' | 'max_entries' | 'max_memory' | 'shard_heap' | 'ingestion_rate'

/** Where a query came from, as a bounded label. */
export type QueryRoute = '/logs' | '/logs/tail' | '/logs/volume' | '/loki/api/v1/query_range' | '/loki/api/v1/query' | '/loki/api/v1/detected_fields'

export interface Meter {
  stored (protocol: Protocol, n: number): void
  rejected (protocol: Protocol, reason: RejectReason, n: number): void
  refused (status: 429 | 507, reason: RefusalReason): void
  /** One query fanned out to the shards: how long it took and how many entries the shards examined. */
  queried (route: QueryRoute, seconds: number, scanned: number): void
  /** Entries of `tenant` stored, and not stored for `reason` (the tenant label is bounded: metrics/tenant-label.ts). */
  tenantStored (tenant: string, n: number): void
  tenantRejected (tenant: string, reason: RejectReason, n: number): void
}

export const NO_METER: Meter = Object.freeze({
  stored () {},
  rejected () {},
  refused () {},
  queried () {},
  tenantStored () {},
  tenantRejected () {}
})
