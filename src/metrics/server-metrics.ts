import type { IncomingMessage, ServerResponse } from 'node:http'
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client'
import { CounterCells, HistogramCells } from './cells.js'
import { TenantLabels } from './tenant-label.js'
import type { ShardRouter } from '../shards/router.js'
import type { Meter, Protocol, QueryRoute, RefusalReason, RejectReason } from '../shards/meter.js'

// The server's Prometheus metrics, one registry per server (tests run several
// servers in one process). Counters the front can count itself move as
// traffic passes (Meter); what the shards hold and their housekeeping totals
// are asked of the shards at scrape time (their 'stats' reply), so the figures
// are the shards' own, never the front's guesses.

const PREFIX = 'logagg_'

/** Seconds: from a fast single-entry POST to a query near QUERY_TIMEOUT. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Entries a query examined: from one block to QUERY_MAX_SCAN's default. */
const SCANNED_BUCKETS = [10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 50_000_000]
/**
 * piscina's task timings come as percentiles; these are exported, as gauges
 * with a `percentile` label (a `quantile` label belongs to summaries only,
 * and piscina gives no sum or count to make one).
 */
const PERCENTILES = [['50', 'p50'], ['90', 'p90'], ['99', 'p99']] as const

/**
 * prom-client's default metrics that break Prometheus's naming rules (gauges
 * named _total; promtool refuses them). Their per-type siblings
 * (nodejs_active_handles{type}, ...) are kept and sum to the same figures.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** One registry's metrics as data (getMetricsAsJSON), as a front thread sends them to the first. */
export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>

/** The route label of a request Express routed: its route pattern, never the raw path. */
function routeOf (req: IncomingMessage): string {
  const r = req as IncomingMessage & { route?: { path?: unknown }, baseUrl?: string }
  return typeof r.route?.path === 'string' ? `${r.baseUrl ?? ''}${r.route.path}` : 'unmatched'
}

export class ServerMetrics implements Meter {
  readonly registry = new Registry()
  private defaultsOn = false
  /** The tenant label of every per-tenant metric, at most METRICS_MAX_TENANTS values besides `other`. */
  private readonly tenantLabels: TenantLabels

  constructor (maxTenants = 100) {
    this.tenantLabels = new TenantLabels(maxTenants)
  }

  // Counted on the hot path: plain cells (cells.ts), not prom-client's per-call label hashing.
  private readonly ingested = new CounterCells(`${PREFIX}ingested_entries_total`, 'Entries stored, by the protocol they arrived in', this.registry)
  private readonly rejectedEntries = new CounterCells(`${PREFIX}rejected_entries_total`, 'Entries not stored, by protocol and reason (invalid, max_services, queue_full, store_full)', this.registry)
  private readonly tenantIngested = new CounterCells(`${PREFIX}tenant_ingested_entries_total`, 'Entries stored, by tenant (past METRICS_MAX_TENANTS tenants, the rest under "other")', this.registry)
  private readonly tenantRejectedEntries = new CounterCells(`${PREFIX}tenant_rejected_entries_total`, 'Entries not stored, by tenant (bounded as tenant_ingested_entries_total) and reason', this.registry)
  private readonly refusals = new CounterCells(`${PREFIX}admission_refusals_total`, 'Ingest requests refused whole before anything was stored (429 queue full, 507 store full), by status and reason', this.registry)
  private readonly httpDuration = new HistogramCells(`${PREFIX}http_request_duration_seconds`, 'HTTP requests answered, by route pattern, method and status class', DURATION_BUCKETS, this.registry)
  private readonly queryDuration = new HistogramCells(`${PREFIX}query_duration_seconds`, 'Queries fanned out to the shards, from sending to the last part, by route', DURATION_BUCKETS, this.registry)
  private readonly queryScanned = new HistogramCells(`${PREFIX}query_scanned_entries`, 'Entries the shards examined for one query, by route', SCANNED_BUCKETS, this.registry)
  private readonly connections = new CounterCells(`${PREFIX}front_connections_total`, 'TCP connections accepted, by the front thread that accepted them (FRONTS)', this.registry)

  /**
   * With FRONTS > 1, in the first front: the other fronts' own counters
   * (their getMetricsAsJSON), summed into every scrape.
   */
  otherFronts: (() => Promise<MetricsJson[]>) | null = null
  /** In a front thread other than the first: a scrape is the first front's, which sums every front's. */
  scrapeElsewhere: (() => Promise<string>) | null = null

  // Asked of the shards (or read from their handles) at scrape time.
  private readonly shardEntries = new Gauge({ name: `${PREFIX}shard_entries`, help: 'Entries a shard holds', labelNames: ['shard'], registers: [this.registry] })
  private readonly shardBytes = new Gauge({ name: `${PREFIX}shard_stored_bytes`, help: 'Bytes a shard holds by its own estimate: compressed blocks, open blocks, streams', labelNames: ['shard'], registers: [this.registry] })
  private readonly shardStreams = new Gauge({ name: `${PREFIX}shard_streams`, help: 'Streams a shard holds', labelNames: ['shard'], registers: [this.registry] })
  private readonly shardServices = new Gauge({ name: `${PREFIX}shard_services`, help: 'Services a shard holds', labelNames: ['shard'], registers: [this.registry] })
  private readonly shardHeap = new Gauge({ name: `${PREFIX}shard_heap_used_bytes`, help: "A shard thread's V8 heap in use", labelNames: ['shard'], registers: [this.registry] })
  private readonly diskBytes = new Gauge({ name: `${PREFIX}shard_disk_bytes`, help: "With DATA_DIR: bytes of a shard's write-ahead log and block files (MAX_DISK bounds their sum)", labelNames: ['shard'], registers: [this.registry] })
  private readonly diskFailing = new Gauge({ name: `${PREFIX}shard_disk_failing`, help: "With DATA_DIR: 1 while a shard's last log write or sync failed (its ingest answers 507/503), else 0", labelNames: ['shard'], registers: [this.registry] })
  private readonly shardUp = new Gauge({ name: `${PREFIX}shard_up`, help: '1 when the shard answered this scrape, 0 while it is down or restarting', labelNames: ['shard'], registers: [this.registry] })
  private readonly queueDepth = new Gauge({ name: `${PREFIX}shard_queue_entries`, help: 'Entries handed to a shard and not yet stored (queued or in flight); QUEUE_LIMIT bounds it', labelNames: ['shard'], registers: [this.registry] })
  private readonly purgeRuns = new Counter({ name: `${PREFIX}purge_runs_total`, help: "Purge runs of a shard's current worker", labelNames: ['shard'], registers: [this.registry] })
  private readonly purged = new Counter({ name: `${PREFIX}purged_entries_total`, help: "Entries dropped past RETENTION by a shard's current worker", labelNames: ['shard'], registers: [this.registry] })
  private readonly purgedByRule = new Counter({ name: `${PREFIX}retention_purged_entries_total`, help: "Entries a shard's current worker purged under LIMITS_FILE's retention, by tenant and rule (retention_stream <selector>, retention_period, or RETENTION)", labelNames: ['shard', 'tenant', 'rule'], registers: [this.registry] })
  private readonly purgeSeconds = new Counter({ name: `${PREFIX}purge_duration_seconds_total`, help: "Time a shard's current worker spent purging; divide by purge_runs_total for the mean", labelNames: ['shard'], registers: [this.registry] })
  private readonly idleSeals = new Counter({ name: `${PREFIX}idle_seals_total`, help: 'Open blocks sealed (compressed) after taking no entry for a while', labelNames: ['shard'], registers: [this.registry] })
  private readonly restarts = new Counter({ name: `${PREFIX}shard_restarts_total`, help: 'Shard workers restarted after a crash', labelNames: ['shard'], registers: [this.registry] })
  private readonly tails = new Gauge({ name: `${PREFIX}tail_subscribers`, help: 'Live tails (GET /logs/tail and the Loki WebSocket) open now', registers: [this.registry] })
  private readonly tailBytes = new Gauge({ name: `${PREFIX}shard_tail_bytes`, help: 'Rendered bytes a shard holds for live tails until their next delivery (each rendering shared by several tails counted once); TAIL_SHARD_BYTES bounds it', labelNames: ['shard'], registers: [this.registry] })
  private readonly tailPeakBytes = new Gauge({ name: `${PREFIX}shard_tail_peak_bytes`, help: "The most rendered bytes a shard's current worker held for live tails at once; TAIL_SHARD_BYTES bounds it", labelNames: ['shard'], registers: [this.registry] })
  private readonly lentBytes = new Gauge({ name: `${PREFIX}shard_lent_page_bytes`, help: 'Bytes of query answers a shard made in the memory it shares with the front and the front has not written out yet (each answer is given back once on the socket)', labelNames: ['shard'], registers: [this.registry] })
  private readonly taskRun = new Gauge({ name: `${PREFIX}shard_task_run_seconds`, help: "piscina's run time of a shard's tasks since its worker started, by percentile", labelNames: ['shard', 'percentile'], registers: [this.registry] })
  private readonly taskWait = new Gauge({ name: `${PREFIX}shard_task_wait_seconds`, help: "piscina's wait time of a shard's tasks before they ran, by percentile", labelNames: ['shard', 'percentile'], registers: [this.registry] })

  stored (protocol: Protocol, n: number): void {
    if (n > 0) this.ingested.inc(protocol, () => ({ protocol }), n)
  }

  rejected (protocol: Protocol, reason: RejectReason, n: number): void {
    this.rejectedEntries.inc(`${protocol} ${reason}`, () => ({ protocol, reason }), n)
  }

  tenantStored (tenant: string, n: number): void {
    if (n <= 0) return
    const t = this.tenantLabels.of(tenant)
    this.tenantIngested.inc(t, () => ({ tenant: t }), n)
  }

  tenantRejected (tenant: string, reason: RejectReason, n: number): void {
    if (n <= 0) return
    const t = this.tenantLabels.of(tenant)
    this.tenantRejectedEntries.inc(`${t} ${reason}`, () => ({ tenant: t, reason }), n)
  }

  refused (status: 429 | 507, reason: RefusalReason): void {
    this.refusals.inc(`${status} ${reason}`, () => ({ status: String(status), reason }))
  }

  accepted (front: number): void {
    this.connections.inc(String(front), () => ({ front: String(front) }))
  }

  /** A front thread's own figures (what it counts and what it has handed the shards), for the first front's scrape. */
  async frontJson (router: ShardRouter): Promise<MetricsJson> {
    router.shards.forEach((_, i) => this.queueDepth.set({ shard: String(i) }, router.admission.load[i]?.entries ?? 0))
    this.tails.set(router.tails.count)
    return await this.registry.getMetricsAsJSON()
  }

  queried (route: QueryRoute, seconds: number, scanned: number): void {
    this.queryDuration.observe(route, () => ({ route }), seconds)
    this.queryScanned.observe(route, () => ({ route }), scanned)
  }

  /**
   * Times one HTTP request until its answer is sent. `route` names it when
   * the fast path served it; otherwise it is Express's route pattern.
   */
  watch (req: IncomingMessage, res: ServerResponse, route: string | null, started = performance.now()): void {
    res.once('finish', () => {
      const path = route ?? routeOf(req)
      const method = req.method ?? 'GET'
      const statusClass = `${Math.floor(res.statusCode / 100)}xx`
      this.httpDuration.observe(`${path} ${method} ${statusClass}`, () => ({ route: path, method, status_class: statusClass }), (performance.now() - started) / 1000)
    })
  }

  /** The Prometheus text of every metric, the shards asked first. */
  async render (router: ShardRouter): Promise<string> {
    if (this.scrapeElsewhere !== null) return await this.scrapeElsewhere()
    if (!this.defaultsOn) {
      // Started at the first scrape, so servers nobody scrapes (tests) pay nothing for them.
      collectDefaultMetrics({ register: this.registry })
      for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name)
      this.defaultsOn = true
    }
    const stats = await Promise.all(router.shards.map((s) => s.stats()))
    // Per shard, tenant label (bounded) and rule: tenants past the bound are summed under "other".
    const purged = new Map<string, number>()
    router.shards.forEach((client, i) => {
      const shard = String(i)
      const s = stats[i]
      this.shardUp.set({ shard }, s === null ? 0 : 1)
      this.queueDepth.set({ shard }, router.admission.load[i]?.entries ?? 0)
      setTotal(this.restarts, shard, client.restarts)
      this.lentBytes.set({ shard }, client.lentBytes)
      if (s !== null && s !== undefined) {
        this.shardEntries.set({ shard }, s.usage.entries)
        this.shardBytes.set({ shard }, s.usage.bytes)
        this.shardStreams.set({ shard }, s.usage.streams)
        this.shardServices.set({ shard }, s.usage.services)
        this.shardHeap.set({ shard }, s.usage.heapUsed)
        this.tailBytes.set({ shard }, s.usage.tailBytes)
        this.tailPeakBytes.set({ shard }, s.usage.tailPeakBytes)
        if (s.usage.disk !== null) {
          this.diskBytes.set({ shard }, s.usage.disk.bytes)
          this.diskFailing.set({ shard }, s.usage.disk.error === null ? 0 : 1)
        }
        setTotal(this.purgeRuns, shard, s.counters.purgeRuns)
        setTotal(this.purged, shard, s.counters.purgedEntries)
        for (const [key, n] of Object.entries(s.counters.purgedByRule ?? {})) {
          const [tenant = '', rule = ''] = key.split('\u0000')
          purged.set(`${shard}\u0000${this.tenantLabels.of(tenant)}\u0000${rule}`, (purged.get(`${shard}\u0000${this.tenantLabels.of(tenant)}\u0000${rule}`) ?? 0) + n)
        }
        setTotal(this.purgeSeconds, shard, s.counters.purgeSeconds)
        setTotal(this.idleSeals, shard, s.counters.idleSeals)
      }
      const timings = client.timings
      if (timings !== null) {
        for (const [percentile, key] of PERCENTILES) {
          this.taskRun.set({ shard, percentile }, timings.runTime[key] / 1000)
          this.taskWait.set({ shard, percentile }, timings.waitTime[key] / 1000)
        }
      }
    })
    this.purgedByRule.reset()
    for (const [key, n] of purged) {
      const [shard = '', tenant = '', rule = ''] = key.split('\u0000')
      this.purgedByRule.inc({ shard, tenant, rule }, n)
    }
    this.tails.set(router.tails.count)
    if (this.otherFronts === null) return await this.registry.metrics()
    // Counters and queue depths add up across fronts; only this front sets the shards' own figures.
    const all = [await this.registry.getMetricsAsJSON(), ...await this.otherFronts()]
    return await AggregatorRegistry.aggregate(all).metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }
}

/**
 * Sets a counter to a total counted elsewhere (a shard's own). A total that
 * went down (the worker restarted) starts the series over, which Prometheus
 * reads as a counter reset.
 */
function setTotal (counter: Counter<'shard'>, shard: string, total: number): void {
  counter.remove({ shard })
  counter.inc({ shard }, total)
}
