import { parse } from 'yaml'
import { parseLogql } from '../logql/parse.js'
import type { LabelMatcher } from '../logql/ast.js'
import { SIZE_UNITS } from '../core/durations.js'
import { tenantIdProblem } from './tenant-id.js'

// LIMITS_FILE: per-tenant limits in YAML, keys named as in Loki's
// limits_config, defaults after Loki's where it has one. `defaults` applies
// to every tenant, `overrides.<tenant>` replaces keys for one tenant (Loki's
// runtime overrides file). Checked whole before it is used; reloaded like
// TOKENS_FILE (watched-file.ts).
//
//   defaults:
//     ingestion_rate_mb: 4
//   overrides:
//     team-a:
//       retention_period: 24h
//       retention_stream:
//         - selector: '{service="debug"}'
//           priority: 1
//           period: 1h

/** A retention_stream rule: entries of streams the selector matches are kept `periodMs`. */
export interface RetentionRule {
  selector: string
  matchers: LabelMatcher[]
  priority: number
  periodMs: number
}

export interface TenantLimits {
  /** MB (2^20 bytes) per second a tenant may ingest, counted in characters of messages and attributes, and its bucket. */
  ingestionRateMb: number
  ingestionBurstSizeMb: number
  /** Characters one entry's message may have; 0: no limit beyond the store's own. */
  maxLineSize: number
  /** Stream labels one stream may have, service included (max_label_names_per_series). */
  maxLabelNamesPerSeries: number
  /** Attributes (structured metadata) one entry may have. */
  maxStructuredMetadataEntriesCount: number
  /** Longest time range one query may read, ms; 0: no limit. */
  maxQueryLengthMs: number
  /** Most entries one log query may ask for (its limit). */
  maxEntriesLimitPerQuery: number
  /** Live tails the tenant may have open at once. */
  maxConcurrentTailRequests: number
  /** Series one metric query may make. */
  maxQuerySeries: number
  /** How long the tenant's entries are kept, ms; 0: RETENTION. */
  retentionPeriodMs: number
  retentionStream: RetentionRule[]
}

/** Loki's defaults (limits_config), with retention 0 meaning the server's RETENTION. */
export const LOKI_DEFAULTS: Readonly<TenantLimits> = Object.freeze({
  ingestionRateMb: 4,
  ingestionBurstSizeMb: 6,
  maxLineSize: 256 * 1024,
  maxLabelNamesPerSeries: 15,
  maxStructuredMetadataEntriesCount: 128,
  maxQueryLengthMs: 721 * 3_600_000,
  maxEntriesLimitPerQuery: 5000,
  maxConcurrentTailRequests: 10,
  maxQuerySeries: 500,
  retentionPeriodMs: 0,
  retentionStream: []
})

/** Each YAML key, the field it sets and how its value is read. */
const KEYS: Record<string, { field: keyof TenantLimits, kind: 'number' | 'count' | 'size' | 'duration' | 'rules' }> = {
  ingestion_rate_mb: { field: 'ingestionRateMb', kind: 'number' },
  ingestion_burst_size_mb: { field: 'ingestionBurstSizeMb', kind: 'number' },
  max_line_size: { field: 'maxLineSize', kind: 'size' },
  max_label_names_per_series: { field: 'maxLabelNamesPerSeries', kind: 'count' },
  max_structured_metadata_entries_count: { field: 'maxStructuredMetadataEntriesCount', kind: 'count' },
  max_query_length: { field: 'maxQueryLengthMs', kind: 'duration' },
  max_entries_limit_per_query: { field: 'maxEntriesLimitPerQuery', kind: 'count' },
  max_concurrent_tail_requests: { field: 'maxConcurrentTailRequests', kind: 'count' },
  max_query_series: { field: 'maxQuerySeries', kind: 'count' },
  retention_period: { field: 'retentionPeriodMs', kind: 'duration' },
  retention_stream: { field: 'retentionStream', kind: 'rules' }
}

export const LIMIT_KEYS = Object.keys(KEYS)

export class LimitsFileError extends Error {
  override name = 'LimitsFileError'
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 365 * 86_400_000 }

/** A Prometheus-style duration as Loki reads them: `721h`, `30d1h`, `1h30m`, `0s`, `0`; NaN otherwise. */
export function lokiDuration (text: string): number {
  if (text === '0') return 0
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return NaN
  let ms = 0
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(n) * UNITS_MS[unit!]!
  return ms
}

/** A size as Loki writes them (`256KB`, `3MB`, `1GiB`) or a byte count. */
function lokiSize (value: unknown): number {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : NaN
  if (typeof value !== 'string') return NaN
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(value.trim())
  if (m === null) return NaN
  const unit = (m[2] ?? 'b').toLowerCase().replace('i', '')
  return Math.floor(Number(m[1]) * SIZE_UNITS[unit]!)
}

function readValue (key: string, value: unknown, where: string, maxRetentionMs: number): unknown {
  const { kind } = KEYS[key]!
  const bad = (expected: string): never => { throw new LimitsFileError(`${where}.${key} is ${JSON.stringify(value)}: expected ${expected}`) }
  switch (kind) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : bad('a positive number')
    case 'count':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : bad('a whole number of at least 1')
    case 'size': {
      const n = lokiSize(value)
      return Number.isNaN(n) ? bad('a size such as 256KB or a number of bytes (0: no limit)') : n
    }
    case 'duration': {
      const ms = typeof value === 'string' ? lokiDuration(value) : value === 0 ? 0 : NaN
      if (Number.isNaN(ms)) bad('a duration such as 24h, 30d1h or 90m (0: none)')
      if (key === 'retention_period' && ms !== 0) checkRetention(ms, `${where}.${key}`, maxRetentionMs)
      return ms
    }
    case 'rules':
      return readRules(value, `${where}.${key}`, maxRetentionMs)
  }
}

/** Retention bounds: at least a minute, at most the RETENTION the server runs with. */
function checkRetention (ms: number, where: string, maxRetentionMs: number): void {
  if (ms < 60_000) throw new LimitsFileError(`${where} is shorter than the 1m this server allows; give 1m or more`)
  if (ms > maxRetentionMs) throw new LimitsFileError(`${where} (${ms / 1000}s) is longer than RETENTION (${maxRetentionMs / 1000}s), the longest this server keeps anything; shorten it or raise RETENTION`)
}

function readRules (value: unknown, where: string, maxRetentionMs: number): RetentionRule[] {
  if (!Array.isArray(value)) throw new LimitsFileError(`${where} must be a list of {selector, priority, period}`)
  return value.map((rule: unknown, i) => {
    const at = `${where}[${i}]`
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw new LimitsFileError(`${at} must be a mapping with selector, priority and period`)
    const { selector, priority = 0, period, ...rest } = rule as Record<string, unknown>
    const extra = Object.keys(rest)[0]
    if (extra !== undefined) throw new LimitsFileError(`${at} has an unknown key ${JSON.stringify(extra)}; the keys are selector, priority and period`)
    if (typeof selector !== 'string') throw new LimitsFileError(`${at}.selector must be a stream selector such as '{service="debug"}'`)
    let matchers: LabelMatcher[]
    try {
      const q = parseLogql(selector)
      if (q.kind !== 'log' || q.selection.lines.length > 0 || q.selection.labels.length > 0 || q.selection.parser !== undefined) throw new Error('give a stream selector alone, such as {service="debug"}')
      matchers = q.selection.selector
    } catch (err) {
      throw new LimitsFileError(`${at}.selector: ${(err as Error).message}`)
    }
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0) throw new LimitsFileError(`${at}.priority must be a whole number of 0 or more`)
    const periodMs = typeof period === 'string' ? lokiDuration(period) : NaN
    if (Number.isNaN(periodMs)) throw new LimitsFileError(`${at}.period must be a duration such as 1h or 7d`)
    checkRetention(periodMs, `${at}.period`, maxRetentionMs)
    return { selector, matchers, priority, periodMs }
  })
}

function readLimits (block: unknown, where: string, base: TenantLimits, maxRetentionMs: number): TenantLimits {
  if (block === null || block === undefined) return base
  if (typeof block !== 'object' || Array.isArray(block)) throw new LimitsFileError(`${where} must be a mapping of limit names to values`)
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(block)) {
    const spec = KEYS[key]
    if (spec === undefined) throw new LimitsFileError(`${where} has an unknown limit ${JSON.stringify(key)}; the limits are ${LIMIT_KEYS.join(', ')}`)
    out[spec.field] = readValue(key, value, where, maxRetentionMs)
  }
  return out as unknown as TenantLimits
}

/** What a limits file says: each tenant's limits. */
export class LimitsTable {
  private constructor (readonly defaults: TenantLimits, private readonly overrides: ReadonlyMap<string, TenantLimits>) {}

  /** The limits of `tenant`. */
  of (tenant: string): TenantLimits {
    return this.overrides.get(tenant) ?? this.defaults
  }

  /** Every tenant with overrides of its own. */
  get tenants (): string[] { return [...this.overrides.keys()] }

  /** Parses and checks a limits file; `maxRetentionMs` is RETENTION, the longest a retention may be. */
  static parse (text: string, maxRetentionMs: number): LimitsTable {
    let doc: unknown
    try {
      doc = parse(text)
    } catch (err) {
      throw new LimitsFileError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`)
    }
    doc ??= {}
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LimitsFileError('expected a mapping with `defaults` and/or `overrides` at the top')
    for (const key of Object.keys(doc)) if (key !== 'defaults' && key !== 'overrides') throw new LimitsFileError(`unknown key ${JSON.stringify(key)} at the top; the keys are defaults and overrides`)
    const { defaults: d, overrides: o } = doc as { defaults?: unknown, overrides?: unknown }
    const defaults = readLimits(d, 'defaults', LOKI_DEFAULTS, maxRetentionMs)
    const overrides = new Map<string, TenantLimits>()
    if (o !== undefined && o !== null) {
      if (typeof o !== 'object' || Array.isArray(o)) throw new LimitsFileError('overrides must be a mapping of tenant ids to limits')
      for (const [tenant, block] of Object.entries(o)) {
        const problem = tenantIdProblem(tenant)
        if (problem !== null) throw new LimitsFileError(`overrides: ${problem}`)
        overrides.set(tenant, readLimits(block, `overrides.${tenant}`, defaults, maxRetentionMs))
      }
    }
    return new LimitsTable(defaults, overrides)
  }
}
