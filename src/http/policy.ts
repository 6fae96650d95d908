import type { IncomingHttpHeaders } from 'node:http'
import type { Settings } from '../settings/settings.js'
import { tokenCheck } from './auth.js'
import { sourceCheck } from './origin.js'
import { securityHeaders } from './security-headers.js'
import { tenantResolver, type TenantResolver } from '../tenants/resolve.js'

/**
 * What every route applies, built once at start and shared by the fast path
 * and the Express app, so both answer with the same headers and the same
 * token rules by construction.
 */
export interface HttpPolicy {
  /** helmet's headers, sent on every answer. */
  headers: ReadonlyArray<readonly [string, string]>
  /** Throws 401 unless the Authorization header may ingest; null when ingest is open. */
  checkIngest: ((authorization: string | undefined) => void) | null
  /** The same for queries (GET /logs, GET /services). */
  checkQuery: ((authorization: string | undefined) => void) | null
  /** The same for GET /metrics (METRICS_TOKEN only). */
  checkMetrics: ((authorization: string | undefined) => void) | null
  /** Throws 403 for a disallowed Origin or (on loopback) Host, on every route; null when all are allowed. */
  checkSource: ((headers: IncomingHttpHeaders) => void) | null
  /** The tenant(s) a request is for (MULTI_TENANT: its X-Scope-OrgID; else fake). */
  tenants: TenantResolver
}

export function httpPolicy (settings: Settings): HttpPolicy {
  const tokens = { auth: settings.authToken, ingest: settings.ingestToken, query: settings.queryToken, metrics: settings.metricsToken }
  return {
    headers: securityHeaders(),
    checkIngest: tokenCheck('ingest', tokens),
    checkQuery: tokenCheck('query', tokens),
    checkMetrics: tokenCheck('metrics', tokens),
    checkSource: sourceCheck(settings),
    tenants: tenantResolver(settings.multiTenant)
  }
}
