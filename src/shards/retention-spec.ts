import type { RetentionSpec, TenantRetention } from '../store/retention.js'
import type { LimitsTable, TenantLimits } from '../tenants/limits-file.js'

// LIMITS_FILE's retention (retention_period, retention_stream per tenant) as
// the plain data the shards are sent (store/retention.ts applies it at each purge).

const retentionOf = (l: TenantLimits): TenantRetention => ({
  periodMs: l.retentionPeriodMs,
  rules: l.retentionStream.map((r) => ({ selector: r.selector, matchers: r.matchers, priority: r.priority, periodMs: r.periodMs }))
})

/** Every tenant's retention; null without LIMITS_FILE (RETENTION for all). */
export function retentionSpec (table: LimitsTable | null): RetentionSpec | null {
  if (table === null) return null
  const tenants: Record<string, TenantRetention> = {}
  for (const t of table.tenants) tenants[t] = retentionOf(table.of(t))
  return { defaults: retentionOf(table.defaults), tenants }
}
