import type { IncomingHttpHeaders } from 'node:http'
import type { Settings } from '../settings/settings.js'
import { accessCheck, type AccessCheck } from './access.js'
import { sourceCheck } from './origin.js'
import { securityHeaders } from './security-headers.js'
import { tenantResolver, type TenantResolver } from '../tenants/resolve.js'
import type { TokenTable } from '../tenants/tokens-file.js'

/**
 * What every route applies, built once at start and shared by the fast path
 * and the Express app, so both answer with the same headers and the same
 * token rules by construction.
 */
export interface HttpPolicy {
  /** helmet's headers, sent on every answer. */
  headers: ReadonlyArray<readonly [string, string]>
  /**
   * Throws 401 / 403 unless the Authorization header may ingest, and says
   * which tenants it may name; null when ingest is open (no token needed).
   */
  checkIngest: AccessCheck | null
  /** The same for queries (GET /logs, GET /services, Loki's query API, tails). */
  checkQuery: AccessCheck | null
  /** The same for GET /metrics (METRICS_TOKEN, or a TOKENS_FILE token with the metrics scope). */
  checkMetrics: AccessCheck | null
  /** The same for the delete API (AUTH_TOKEN, or a TOKENS_FILE token with the admin scope). */
  checkAdmin: AccessCheck | null
  /** Throws 403 for a disallowed Origin or (on loopback) Host, on every route; null when all are allowed. */
  checkSource: ((headers: IncomingHttpHeaders) => void) | null
  /** The tenant(s) a request is for (MULTI_TENANT: its X-Scope-OrgID; else fake), within what its token allows. */
  tenants: TenantResolver
}

export interface PolicyFiles {
  /** TOKENS_FILE's table as it is now; null when TOKENS_FILE is unset. */
  tokens: (() => TokenTable) | null
}

export function httpPolicy (settings: Settings, files: PolicyFiles = { tokens: null }): HttpPolicy {
  const legacy = { auth: settings.authToken, ingest: settings.ingestToken, query: settings.queryToken, metrics: settings.metricsToken }
  const options = { legacy, table: files.tokens }
  return {
    headers: securityHeaders(),
    checkIngest: accessCheck('ingest', options),
    checkQuery: accessCheck('query', options),
    checkMetrics: accessCheck('metrics', options),
    checkAdmin: accessCheck('admin', options),
    checkSource: sourceCheck(settings),
    tenants: tenantResolver(settings.multiTenant)
  }
}
