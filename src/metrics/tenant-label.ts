// The `tenant` label of /metrics, bounded: the first `max` tenants a front
// thread sees keep their own label value; any later one is counted under
// `other` (METRICS_MAX_TENANTS), so a server with many tenants cannot grow a
// scrape without bound. Each front thread keeps its own list.

export const OTHER_TENANT = 'other'

export class TenantLabels {
  private readonly seen = new Set<string>()

  constructor (private readonly max: number) {}

  /** The label value `tenant` is counted under. */
  of (tenant: string): string {
    if (this.seen.has(tenant)) return tenant
    if (this.seen.size >= this.max) return OTHER_TENANT
    this.seen.add(tenant)
    return tenant
  }
}
