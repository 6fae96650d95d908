import { availableParallelism, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { DURATION_UNITS, SIZE_UNITS, parseDuration, parseSize } from '../core/durations.js'
import { CODEC_NAMES, DEFAULT_CODEC, codecByName } from '../store/codec/registry.js'
import { fsyncText, parseFsync } from '../store/disk/wal.js'
import { FAKE_TENANT, tenantIdProblem } from '../tenants/tenant-id.js'

// Every setting can come from an environment variable or from the flag of the
// same name (the flag wins). Values are checked once, here; a bad one stops
// the program at start with one line that names the setting.

export interface Settings {
  readonly port: number
  readonly host: string
  readonly shards: number
  /**
   * Front threads that accept connections on the port (server.listen's
   * reusePort, Node ≥ 22.12); on an older Node one, whatever this says.
   */
  readonly fronts: number
  /** How long entries are kept, in ms. */
  readonly retention: number
  /** How often each shard drops expired entries, in ms. */
  readonly purgeInterval: number
  /** Largest accepted request body, in bytes. */
  readonly maxBody: number
  /** How far in the future a timestamp may be, in ms. */
  readonly futureSkew: number
  readonly logLevel: string
  /** Entries that may wait for one shard before ingest answers 429. */
  readonly queueLimit: number
  /** Entries the store may hold before ingest answers 507. */
  readonly maxEntries: number
  /** Estimated bytes the store may hold before ingest answers 507. */
  readonly maxMemory: number
  /** ms a query may run before it answers 503. */
  readonly queryTimeout: number
  /** Entries one shard may examine for one query. */
  readonly queryMaxScan: number
  /** Series one metric query may make before it answers 400 (Loki's max_query_series). */
  readonly maxQuerySeries: number
  /** Series × evaluation times one metric query may make before it answers 400. */
  readonly maxQuerySamples: number
  /** ms to receive a request's headers. */
  readonly headersTimeout: number
  /** ms to receive a whole request. */
  readonly requestTimeout: number
  /** ms an idle keep-alive connection stays open. */
  readonly keepAliveTimeout: number
  /** Bearer tokens; '' means not set. */
  readonly authToken: string
  readonly ingestToken: string
  readonly queryToken: string
  /** Bearer token for GET /metrics; '' leaves it open. */
  readonly metricsToken: string
  /** Tenants (X-Scope-OrgID, Loki's auth_enabled); off: every request is tenant `fake`. */
  readonly multiTenant: boolean
  /** The tenant of entries the syslog listeners receive over TCP and over UDP. */
  readonly syslogTcpTenant: string
  readonly syslogUdpTenant: string
  /** YAML file of tokens bound to tenants and scopes (tenants/tokens-file.ts), reloaded while running; '' means none. */
  readonly tokensFile: string
  /** YAML file of per-tenant limits, keys as Loki's limits_config (tenants/limits-file.ts), reloaded while running; '' means none. */
  readonly limitsFile: string
  /** ms a delete request waits, cancelable, before it is in force (Loki's delete_request_cancel_period). */
  readonly deleteCancelPeriod: number
  /** Tenants /metrics names one by one; the others are summed under `other`. */
  readonly metricsMaxTenants: number
  /** Allowed CORS origin; '' means CORS is off. */
  readonly corsOrigin: string
  /** Services the store may hold before entries of new ones answer 507. */
  readonly maxServices: number
  /** Bytes of one GET /logs page at most; a longer page stops early with a next cursor. */
  readonly maxPageBytes: number
  /** Queries one shard runs at a time; more answer 503. */
  readonly queryConcurrency: number
  /** Entries one live tail may have waiting on one shard between two polls; more are dropped for it and counted. */
  readonly tailBuffer: number
  /** Rendered bytes one live tail may have waiting on one shard between two polls, and unsent on the front; more are dropped for it and counted. */
  readonly tailBufferBytes: number
  /** Rendered bytes one shard may hold for all its live tails together between two polls. */
  readonly tailShardBytes: number
  /** Live tails (GET /logs/tail and Loki's WebSocket) open at once; more answer 429. */
  readonly maxTails: number
  /** How much lower than the front thread the shard threads run (Linux nice, 0 to 19). */
  readonly shardNice: number
  /** Host names accepted besides loopback ones while listening on loopback: comma list, '*' for any, '' for none. */
  readonly allowedHosts: string
  /** ms an answer may stay unread (unflushed) before its connection is cut. */
  readonly writeTimeout: number
  /** Loki push: stream labels whose value names the service, first present wins (comma list). */
  readonly serviceLabels: string
  /** Syslog over TCP (RFC 6587, both framings) on this port; -1 means off. */
  readonly syslogTcpPort: number
  /** Syslog over UDP, one message per datagram, on this port; -1 means off. */
  readonly syslogUdpPort: number
  /** Address the syslog listeners bind; '' means HOST. */
  readonly syslogHost: string
  /** Syslog TCP connections open at once; more are closed as they come. */
  readonly syslogMaxConnections: number
  /** ms a syslog TCP connection may send nothing before it is closed. */
  readonly syslogIdleTimeout: number
  /** Folder for the write-ahead log and block files; '' keeps everything in memory. */
  readonly dataDir: string
  /** With DATA_DIR: when the log is synced: batch, off or interval:<duration> (normalized: interval:<ms>ms). */
  readonly fsync: string
  /** With DATA_DIR: bytes of log and block files before ingest answers 507; -1: 80% of the free space at start. */
  readonly maxDisk: number
  /** With DATA_DIR: ms between checkpoints (sealed blocks written to files, the log they cover deleted). */
  readonly checkpointInterval: number
  /** With DATA_DIR: blocks older than this (ms) are read from their files instead of being kept in memory. */
  readonly hotWindow: number
  /** The codec new sealed blocks are encoded with (store/codec/registry.ts); blocks keep the one they were written with. */
  readonly blockCodec: string
  /** One log line per answered request (method, route, path, status, bytes, ms, error code). */
  readonly accessLog: boolean
  /** Cluster mode: NATS servers, comma list of nats://host:port; '' runs the single-process server. */
  readonly natsUrl: string
  /** Cluster mode: names the JetStream stream, the KV bucket and the subjects (two clusters may share one NATS). */
  readonly clusterName: string
  /** Cluster mode: hash partitions of the services, fixed for the life of the stream. */
  readonly clusterPartitions: number
  /** Cluster mode: copies JetStream keeps of the stream and the KV bucket (3, or the number of NATS_URL servers if fewer, unless given). */
  readonly natsReplicas: number
  /** Cluster mode: ms after its last heartbeat that an instance loses its partitions. */
  readonly clusterLeaseTimeout: number
  /** Cluster mode: bytes the stream keeps at most (oldest messages go first), besides RETENTION. */
  readonly clusterMaxBytes: number
}

export const DEFAULTS: Readonly<Settings> = Object.freeze({
  port: 8000,
  host: '127.0.0.1',
  shards: availableParallelism(),
  fronts: Math.max(1, Math.floor(availableParallelism() / 2)),
  retention: 3_600_000,
  purgeInterval: 60_000,
  maxBody: 16 * 1024 * 1024,
  futureSkew: 600_000,
  logLevel: 'info',
  queueLimit: 200_000,
  maxEntries: 50_000_000,
  // A quarter of the machine's memory, rounded down to whole MiB.
  maxMemory: Math.floor(totalmem() / 4 / 1048576) * 1048576,
  queryTimeout: 10_000,
  queryMaxScan: 50_000_000,
  // Loki's max_query_series default.
  maxQuerySeries: 500,
  // About 25 MB of matrix JSON at ~25 bytes a sample: 90 series at Loki's 11,000 points, 500 at 2000.
  maxQuerySamples: 1_000_000,
  headersTimeout: 10_000,
  requestTimeout: 60_000,
  keepAliveTimeout: 5_000,
  authToken: '',
  ingestToken: '',
  queryToken: '',
  metricsToken: '',
  multiTenant: false,
  syslogTcpTenant: FAKE_TENANT,
  syslogUdpTenant: FAKE_TENANT,
  tokensFile: '',
  limitsFile: '',
  // Loki's delete_request_cancel_period.
  deleteCancelPeriod: 86_400_000,
  metricsMaxTenants: 100,
  corsOrigin: '',
  maxServices: 100_000,
  maxPageBytes: 16 * 1024 * 1024,
  queryConcurrency: 16,
  tailBuffer: 10_000,
  // 1 MiB per 200 ms poll is 5 MiB/s (some 20,000 SSE events a second) per tail and shard, more
  // than a person reads; a client that does not read holds at most this much on the front.
  tailBufferBytes: 1024 * 1024,
  // Enough for 32 tails with full buffers and distinct selections on one shard; tails of the
  // same selection share their renderings, so they count once.
  tailShardBytes: 32 * 1024 * 1024,
  // With every core busy, the front still answers /healthz and refusals within the attack
  // soak's 200 ms (worst 534 ms at 0, 194 ms at 5: bench/soak-attack.ts), and it is the
  // front that decides what the shards are handed.
  shardNice: 5,
  // Loki allows 10 tails per querier (max_concurrent_tail_requests); 100 leaves room for a team's
  // browsers and scripts while the worst case on the front, 100 × TAIL_BUFFER_BYTES, stays 100 MiB.
  maxTails: 100,
  allowedHosts: '',
  writeTimeout: 30_000,
  serviceLabels: 'service,service_name,app,job,container',
  syslogTcpPort: -1,
  syslogUdpPort: -1,
  syslogHost: '',
  syslogMaxConnections: 1000,
  syslogIdleTimeout: 86_400_000,
  dataDir: '',
  fsync: 'batch',
  maxDisk: -1,
  checkpointInterval: 60_000,
  hotWindow: 900_000,
  // brotli at quality 1, lgwin 16: what sealed blocks have always used.
  blockCodec: DEFAULT_CODEC.name,
  accessLog: false,
  natsUrl: '',
  clusterName: 'logagg',
  clusterPartitions: 32,
  natsReplicas: 3,
  clusterLeaseTimeout: 5_000,
  clusterMaxBytes: 1024 * 1024 * 1024
})

export class SettingsError extends Error {
  override name = 'SettingsError'
}

type Kind = 'port' | 'host' | 'count' | 'duration' | 'size' | 'level' | 'secret' | 'origin' | 'hosts' | 'labels' | 'path' | 'fsync' | 'codec' | 'switch' | 'nats' | 'name' | 'tenant'

interface Spec { key: keyof Settings, env: string, flag: string, kind: Kind, help: string, min?: number, max?: number }

// Above 2^31 - 1 ms (about 596 hours) Node's setInterval warns and fires every millisecond instead.
const MAX_TIMER_MS = 2 ** 31 - 1

const SPECS: readonly Spec[] = [
  { key: 'port', env: 'PORT', flag: 'port', kind: 'port', help: 'TCP port to listen on, 0 to 65535 (0 picks a free one)' },
  { key: 'host', env: 'HOST', flag: 'host', kind: 'host', help: 'address to listen on' },
  { key: 'shards', env: 'SHARDS', flag: 'shards', kind: 'count', min: 1, max: 256, help: 'number of shard worker threads' },
  { key: 'fronts', env: 'FRONTS', flag: 'fronts', kind: 'count', min: 1, max: 64, help: 'front threads accepting connections on the port, each with its own channel to every shard (needs Node 22.12 or later for reusePort; on an older Node there is one)' },
  { key: 'shardNice', env: 'SHARD_NICE', flag: 'shard-nice', kind: 'count', min: 0, max: 19, help: 'how much lower than the front thread the shard threads run (a Linux nice value): when the cores are short, the front keeps answering while the shards take what is left; 0 runs them alike' },
  { key: 'retention', env: 'RETENTION', flag: 'retention', kind: 'duration', help: 'how long entries are kept' },
  { key: 'purgeInterval', env: 'PURGE_INTERVAL', flag: 'purge-interval', kind: 'duration', max: MAX_TIMER_MS, help: 'how often expired entries are dropped' },
  { key: 'maxBody', env: 'MAX_BODY', flag: 'max-body', kind: 'size', help: 'largest request body accepted' },
  { key: 'futureSkew', env: 'FUTURE_SKEW', flag: 'future-skew', kind: 'duration', help: 'how far in the future a timestamp may be' },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level', kind: 'level', help: 'server log level: fatal, error, warn, info, debug, trace or silent' },
  { key: 'queueLimit', env: 'QUEUE_LIMIT', flag: 'queue-limit', kind: 'count', min: 1, max: 1e9, help: 'entries that may wait for one shard before ingest answers 429' },
  { key: 'maxEntries', env: 'MAX_ENTRIES', flag: 'max-entries', kind: 'count', min: 1, max: 1e12, help: 'entries the store may hold before ingest answers 507' },
  { key: 'maxMemory', env: 'MAX_MEMORY', flag: 'max-memory', kind: 'size', help: 'estimated memory the stored entries may use before ingest answers 507 (default: a quarter of RAM)' },
  { key: 'queryTimeout', env: 'QUERY_TIMEOUT', flag: 'query-timeout', kind: 'duration', max: MAX_TIMER_MS, help: 'how long a query may run before it answers 503' },
  { key: 'queryMaxScan', env: 'QUERY_MAX_SCAN', flag: 'query-max-scan', kind: 'count', min: 1, max: 1e12, help: 'entries one shard may examine for one query before it answers 503' },
  { key: 'maxQuerySeries', env: 'MAX_QUERY_SERIES', flag: 'max-query-series', kind: 'count', min: 1, max: 1_000_000, help: 'series one metric query may make, on each shard and in all, before it answers 400' },
  { key: 'maxQuerySamples', env: 'MAX_QUERY_SAMPLES', flag: 'max-query-samples', kind: 'count', min: 1, max: 1e9, help: 'series × evaluation times one metric query may make, on each shard and in all, before it answers 400' },
  { key: 'headersTimeout', env: 'HEADERS_TIMEOUT', flag: 'headers-timeout', kind: 'duration', max: MAX_TIMER_MS, help: 'time allowed to send request headers' },
  { key: 'requestTimeout', env: 'REQUEST_TIMEOUT', flag: 'request-timeout', kind: 'duration', max: MAX_TIMER_MS, help: 'time allowed to send a whole request' },
  { key: 'keepAliveTimeout', env: 'KEEP_ALIVE_TIMEOUT', flag: 'keep-alive-timeout', kind: 'duration', max: MAX_TIMER_MS, help: 'how long an idle keep-alive connection stays open' },
  { key: 'authToken', env: 'AUTH_TOKEN', flag: 'auth-token', kind: 'secret', help: 'bearer token that may ingest and query' },
  { key: 'ingestToken', env: 'INGEST_TOKEN', flag: 'ingest-token', kind: 'secret', help: 'bearer token that may only ingest' },
  { key: 'queryToken', env: 'QUERY_TOKEN', flag: 'query-token', kind: 'secret', help: 'bearer token that may only query' },
  { key: 'metricsToken', env: 'METRICS_TOKEN', flag: 'metrics-token', kind: 'secret', help: 'bearer token a scraper sends for GET /metrics; open when unset (AUTH_TOKEN does not guard it)' },
  { key: 'multiTenant', env: 'MULTI_TENANT', flag: 'multi-tenant', kind: 'switch', help: 'tenants: every request names its tenant in X-Scope-OrgID (401 without it) and sees only its own logs; off, everything is tenant fake' },
  { key: 'syslogTcpTenant', env: 'SYSLOG_TCP_TENANT', flag: 'syslog-tcp-tenant', kind: 'tenant', help: 'tenant of the entries the syslog TCP listener receives' },
  { key: 'syslogUdpTenant', env: 'SYSLOG_UDP_TENANT', flag: 'syslog-udp-tenant', kind: 'tenant', help: 'tenant of the entries the syslog UDP listener receives' },
  { key: 'tokensFile', env: 'TOKENS_FILE', flag: 'tokens-file', kind: 'path', help: 'YAML file of bearer tokens, each with its tenants and scopes (ingest, query, metrics, admin); reloaded on SIGHUP and when it changes' },
  { key: 'limitsFile', env: 'LIMITS_FILE', flag: 'limits-file', kind: 'path', help: "YAML file of per-tenant limits (defaults and overrides, keys as Loki's limits_config); reloaded on SIGHUP and when it changes" },
  { key: 'deleteCancelPeriod', env: 'DELETE_CANCEL_PERIOD', flag: 'delete-cancel-period', kind: 'duration', help: 'how long a delete request (POST /loki/api/v1/delete) waits, cancelable, before its entries are no longer read' },
  { key: 'metricsMaxTenants', env: 'METRICS_MAX_TENANTS', flag: 'metrics-max-tenants', kind: 'count', min: 1, max: 100_000, help: 'tenants /metrics names in its tenant label; counts of further tenants are summed under other' },
  { key: 'corsOrigin', env: 'CORS_ORIGIN', flag: 'cors-origin', kind: 'origin', help: 'origin allowed to call from a browser (* for any); CORS is off when unset' },
  { key: 'maxServices', env: 'MAX_SERVICES', flag: 'max-services', kind: 'count', min: 1, max: 1e9, help: 'services the store may hold before entries of new ones answer 507' },
  { key: 'maxPageBytes', env: 'MAX_PAGE_BYTES', flag: 'max-page-bytes', kind: 'size', help: 'bytes of one GET /logs page at most; a longer page stops early and its next cursor continues it' },
  { key: 'tailBuffer', env: 'TAIL_BUFFER', flag: 'tail-buffer', kind: 'count', min: 1, max: 1_000_000, help: 'entries a live tail may have waiting on one shard between two deliveries (every 200 ms); more are dropped for that tail and reported' },
  { key: 'tailBufferBytes', env: 'TAIL_BUFFER_BYTES', flag: 'tail-buffer-bytes', kind: 'size', help: 'rendered bytes a live tail may have waiting on one shard between two deliveries, and unsent to its client; more are dropped for that tail and reported' },
  { key: 'tailShardBytes', env: 'TAIL_SHARD_BYTES', flag: 'tail-shard-bytes', kind: 'size', help: 'rendered bytes one shard may hold for all its live tails between two deliveries; more are dropped and reported' },
  { key: 'maxTails', env: 'MAX_TAILS', flag: 'max-tails', kind: 'count', min: 1, max: 100_000, help: 'live tails (GET /logs/tail and the Loki WebSocket) open at once; more answer 429' },
  { key: 'queryConcurrency', env: 'QUERY_CONCURRENCY', flag: 'query-concurrency', kind: 'count', min: 1, max: 16, help: 'queries one shard runs at a time; more answer 503 with Retry-After' },
  { key: 'allowedHosts', env: 'ALLOWED_HOSTS', flag: 'allowed-hosts', kind: 'hosts', help: 'Host header names accepted besides loopback ones while listening on loopback (comma list, * for any)' },
  { key: 'writeTimeout', env: 'WRITE_TIMEOUT', flag: 'write-timeout', kind: 'duration', max: MAX_TIMER_MS, help: 'how long an answer may stay unread before the connection is cut' },
  { key: 'serviceLabels', env: 'SERVICE_LABELS', flag: 'service-labels', kind: 'labels', help: 'Loki push: comma list of stream labels that name the service, first present wins' },
  { key: 'syslogTcpPort', env: 'SYSLOG_TCP_PORT', flag: 'syslog-tcp-port', kind: 'port', help: 'TCP port for syslog (octet counting or newline framing), 0 to 65535 (0 picks a free one); off when unset' },
  { key: 'syslogUdpPort', env: 'SYSLOG_UDP_PORT', flag: 'syslog-udp-port', kind: 'port', help: 'UDP port for syslog, one message per datagram; off when unset' },
  { key: 'syslogHost', env: 'SYSLOG_HOST', flag: 'syslog-host', kind: 'host', help: 'address the syslog listeners bind (default: HOST)' },
  { key: 'syslogMaxConnections', env: 'SYSLOG_MAX_CONNECTIONS', flag: 'syslog-max-connections', kind: 'count', min: 1, max: 1_000_000, help: 'syslog TCP connections open at once; more are closed as they come, counted and logged' },
  { key: 'syslogIdleTimeout', env: 'SYSLOG_IDLE_TIMEOUT', flag: 'syslog-idle-timeout', kind: 'duration', max: MAX_TIMER_MS, help: 'how long a syslog TCP connection may send nothing before it is closed' },
  { key: 'dataDir', env: 'DATA_DIR', flag: 'data-dir', kind: 'path', help: 'folder for the write-ahead log and block files, so acknowledged entries survive restarts; memory only when unset' },
  { key: 'fsync', env: 'FSYNC', flag: 'fsync', kind: 'fsync', help: 'with DATA_DIR, when the log is synced to disk: batch (before every answer), interval:<duration> (on a timer) or off (the OS decides)' },
  { key: 'maxDisk', env: 'MAX_DISK', flag: 'max-disk', kind: 'size', help: 'with DATA_DIR, bytes of log and block files before ingest answers 507 (default: 80% of the free space at start)' },
  { key: 'checkpointInterval', env: 'CHECKPOINT_INTERVAL', flag: 'checkpoint-interval', kind: 'duration', max: MAX_TIMER_MS, help: 'with DATA_DIR, how often sealed blocks are written to block files and the log they cover deleted' },
  { key: 'hotWindow', env: 'HOT_WINDOW', flag: 'hot-window', kind: 'duration', help: 'with DATA_DIR, blocks older than this leave memory and are read from their files when a query reaches them' },
  { key: 'blockCodec', env: 'BLOCK_CODEC', flag: 'block-codec', kind: 'codec', help: `codec new sealed blocks are compressed with: ${CODEC_NAMES.join(', ')}; blocks already written keep theirs` },
  { key: 'accessLog', env: 'ACCESS_LOG', flag: 'access-log', kind: 'switch', help: 'log one line per request: method, route, path, status, bytes, duration, error code' },
  { key: 'natsUrl', env: 'NATS_URL', flag: 'nats-url', kind: 'nats', help: 'cluster mode: comma list of NATS servers (nats://host:port) with JetStream on; the single-process server when unset' },
  { key: 'clusterName', env: 'CLUSTER_NAME', flag: 'cluster-name', kind: 'name', help: 'cluster mode: names the JetStream stream, the KV bucket and the subjects, so two clusters can share one NATS' },
  { key: 'clusterPartitions', env: 'CLUSTER_PARTITIONS', flag: 'cluster-partitions', kind: 'count', min: 1, max: 1024, help: 'cluster mode: hash partitions of the services, fixed for the life of the stream (another value on an existing stream stops the start)' },
  { key: 'natsReplicas', env: 'NATS_REPLICAS', flag: 'nats-replicas', kind: 'count', min: 1, max: 5, help: 'cluster mode: copies JetStream keeps of the stream and the member bucket (default 3, or the number of NATS_URL servers if fewer)' },
  { key: 'clusterLeaseTimeout', env: 'CLUSTER_LEASE_TIMEOUT', flag: 'cluster-lease-timeout', kind: 'duration', max: MAX_TIMER_MS, help: 'cluster mode: how long after its last heartbeat an instance loses its partitions to the others' },
  { key: 'clusterMaxBytes', env: 'CLUSTER_MAX_BYTES', flag: 'cluster-max-bytes', kind: 'size', help: 'cluster mode: bytes the stream keeps at most (per copy), oldest messages dropped first, besides RETENTION' }
]

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

function badSecret (origin: string): never {
  // Never echo a token, even a bad one.
  throw new SettingsError(`${origin} is not a usable token: expected at least 16 printable ASCII characters without spaces`)
}

const SWITCHES: Record<string, boolean> = { on: true, true: true, yes: true, 1: true, off: false, false: false, no: false, 0: false }

function convert (spec: Spec, raw: string, origin: string): string | number | boolean {
  const bad = (accepts: string): never => {
    throw new SettingsError(`${origin} is ${JSON.stringify(raw)}: expected ${accepts}`)
  }
  switch (spec.kind) {
    case 'port': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN
      return n >= 0 && n <= 65535 ? n : bad('a port number from 0 to 65535')
    }
    case 'count': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN
      return n >= spec.min! && n <= spec.max! ? n : bad(`a whole number from ${spec.min} to ${spec.max}`)
    }
    case 'duration': {
      const ms = parseDuration(raw)
      const max = spec.max ?? Infinity
      return ms > 0 && ms <= max ? ms : bad(`a positive duration with a unit: ms, s, m, h, d or w (e.g. 1500ms, 90s, 15m, 1h, 7d)${max < Infinity ? ', at most 596h' : ''}`)
    }
    case 'size': {
      const bytes = parseSize(raw)
      return bytes > 0 ? bytes : bad('a positive size in b, kb, mb or gb (e.g. 512kb, 16mb)')
    }
    case 'level':
      return LEVELS.has(raw) ? raw : bad('one of fatal, error, warn, info, debug, trace, silent')
    case 'host':
      return raw.length > 0 ? raw : bad('a host name or address')
    case 'secret':
      return /^[\x21-\x7e]{16,}$/.test(raw) ? raw : badSecret(origin)
    case 'hosts': {
      if (raw.trim() === '*') return '*'
      const names = raw.split(',').map((h) => h.trim().toLowerCase())
      return names.every((h) => /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/.test(h)) ? names.join(',') : bad('* or a comma-separated list of host names such as logs.example.com,10.0.0.5')
    }
    case 'origin':
      return raw === '*' || /^https?:\/\/[^/\s]+$/.test(raw) ? raw : bad('* or an origin such as https://example.com (scheme and host, no path)')
    case 'path':
      return raw.trim() !== '' && !raw.includes('\0') ? raw : bad('a folder path')
    case 'fsync': {
      const mode = parseFsync(raw, parseDuration)
      return mode !== null ? fsyncText(mode) : bad('batch, off, or interval:<duration> from 1ms to 1h (e.g. interval:1s)')
    }
    case 'codec':
      return codecByName(raw) !== undefined ? raw : bad(`one of ${CODEC_NAMES.join(', ')}`)
    case 'switch': {
      const on = SWITCHES[raw.trim().toLowerCase()]
      return on ?? bad('on or off')
    }
    case 'nats': {
      const urls = raw.split(',').map((u) => u.trim())
      return urls.every((u) => /^nats:\/\/[^\s/:,]+(:\d{1,5})?$/.test(u)) ? urls.join(',') : bad('a comma-separated list of NATS servers such as nats://127.0.0.1:4222,nats://10.0.0.6:4222')
    }
    case 'name':
      return /^[A-Za-z0-9_-]{1,32}$/.test(raw) ? raw : bad('1 to 32 letters, digits, _ or - (it names a JetStream stream, a KV bucket and subjects)')
    case 'tenant': {
      const problem = tenantIdProblem(raw)
      return problem === null ? raw : bad(`a tenant id (${problem})`)
    }
    case 'labels': {
      const names = raw.split(',').map((n) => n.trim())
      return names.every((n) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n)) ? names.join(',') : bad('a comma-separated list of label names (letters, digits and _, not starting with a digit), e.g. service,app,job')
    }
  }
}

/** Reads settings from `env` and then `argv` (flags win). Throws SettingsError on a bad value. */
export function loadSettings (argv: readonly string[], env: NodeJS.ProcessEnv): Settings {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } }
  for (const spec of SPECS) options[spec.flag] = { type: 'string' }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new SettingsError(`${(err as Error).message.split('\n').map((l) => l.trim()).join(' ').replace(/\.$/, '')}. Run with --help to list the settings`)
  }
  if (values.help === true) throw new SettingsError(usage(), { cause: 'help' })

  const out: Record<string, string | number | boolean> = { ...DEFAULTS }
  /** Where each setting that was given came from: its variable or its flag. */
  const given = new Map<keyof Settings, string>()
  for (const spec of SPECS) {
    const fromEnv = env[spec.env]
    if (fromEnv !== undefined && fromEnv !== '') {
      out[spec.key] = convert(spec, fromEnv, spec.env)
      given.set(spec.key, spec.env)
    }
    const fromFlag = values[spec.flag]
    if (typeof fromFlag === 'string') {
      out[spec.key] = convert(spec, fromFlag, `--${spec.flag}`)
      given.set(spec.key, `--${spec.flag}`)
    }
  }
  // node:http refuses a headers timeout longer than the request's (a RangeError at start): a
  // shorter REQUEST_TIMEOUT alone lowers the default HEADERS_TIMEOUT with it; both given must agree.
  if ((out.headersTimeout as number) > (out.requestTimeout as number)) {
    const headers = given.get('headersTimeout')
    if (headers !== undefined) throw new SettingsError(`${headers} (${out.headersTimeout}ms) is longer than ${given.get('requestTimeout') ?? 'REQUEST_TIMEOUT'} (${out.requestTimeout}ms): the headers are part of the request; make it at most the request timeout`)
    out.headersTimeout = out.requestTimeout as number
  }
  // A replica per server at most: R3 on a one-server NATS cannot be placed.
  if (!given.has('natsReplicas') && out.natsUrl !== '') out.natsReplicas = Math.min(DEFAULTS.natsReplicas, (out.natsUrl as string).split(',').length)
  return Object.freeze(out) as unknown as Settings
}

function showDefault (spec: Spec): string {
  const value = DEFAULTS[spec.key]
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  if (typeof value !== 'number') return value === '' ? 'unset' : value
  if (value < 0) return 'unset'
  if (spec.kind === 'duration') {
    for (const unit of ['w', 'd', 'h', 'm', 's'] as const) if (value % DURATION_UNITS[unit]! === 0) return `${value / DURATION_UNITS[unit]!}${unit}`
    return `${value}ms`
  }
  if (spec.kind === 'size') {
    for (const unit of ['gb', 'mb', 'kb'] as const) if (value % SIZE_UNITS[unit]! === 0) return `${value / SIZE_UNITS[unit]!}${unit}`
  }
  return String(value)
}

export function usage (): string {
  const lines = ['Usage: npm start -- [--flag value ...]   (each flag also reads the environment variable shown)', '']
  for (const spec of SPECS) {
    lines.push(`  --${spec.flag.padEnd(15)} ${spec.env.padEnd(15)} ${spec.help} (default ${showDefault(spec)})`)
  }
  return lines.join('\n')
}

/** The settings as they may be logged: tokens replaced by whether they are set. */
export function loggableSettings (settings: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = { ...settings }
  for (const spec of SPECS) if (spec.kind === 'secret') out[spec.key] = settings[spec.key] === '' ? 'unset' : 'set'
  return out
}
