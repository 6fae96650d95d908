// Tenant ids and how a tenant's streams are kept apart on the shards.
//
// A shard knows a stream by its stored service name: the tenant, U+001F, the
// service. Tenant `fake` (everything when MULTI_TENANT is off, Loki's
// auth_enabled: false) has no prefix, so a server without tenants stores
// exactly what it stored before, and DATA_DIR folders written before tenants
// existed load as tenant `fake`. A service name can hold no control
// character (ingest/record.ts serviceProblem), so the separator is unambiguous.
//
//   "api"              tenant fake,   service api
//   "team-a\u001fapi"  tenant team-a, service api

/** The tenant of every request when MULTI_TENANT is off (Loki's name for it). */
export const FAKE_TENANT = 'fake'

/** Between the tenant and the service in a stored service name. */
export const TENANT_SEP = '\u001f'

/** Loki's (dskit's) longest tenant id. */
export const MAX_TENANT_LENGTH = 150

/** dskit's supported characters: letters, digits and ! - _ . * ' ( ). */
const SUPPORTED = /^[a-zA-Z0-9!\-_.*'()]*$/

/** The stored service name of `service` of `tenant`. */
export function storedService (tenant: string, service: string): string {
  return tenant === FAKE_TENANT ? service : `${tenant}${TENANT_SEP}${service}`
}

/** The tenant of a stored service name. */
export function tenantOfStored (stored: string): string {
  const at = stored.indexOf(TENANT_SEP)
  return at === -1 ? FAKE_TENANT : stored.slice(0, at)
}

/** The service of a stored service name, as its senders named it. */
export function serviceOfStored (stored: string): string {
  const at = stored.indexOf(TENANT_SEP)
  return at === -1 ? stored : stored.slice(at + 1)
}

/** Why `id` is not a valid tenant id (dskit's rules and words), or null. */
export function tenantIdProblem (id: string): string | null {
  if (id === '') return 'the tenant id is empty'
  if (!SUPPORTED.test(id)) {
    const bad = [...id].find((c) => !SUPPORTED.test(c))!
    return `tenant ID '${id.slice(0, 160)}' contains unsupported character '${bad}': use letters, digits and ! - _ . * ' ( )`
  }
  if (id.length > MAX_TENANT_LENGTH) return `tenant ID is too long: max ${MAX_TENANT_LENGTH} characters`
  if (id === '.' || id === '..') return 'tenant ID is \'.\' or \'..\''
  return null
}

/**
 * The tenants an X-Scope-OrgID header names: one id, or several joined by `|`
 * (a query across tenants), sorted and without repeats as dskit returns them;
 * the first problem found otherwise.
 */
export function parseOrgIds (header: string): string[] | string {
  const ids = [...new Set(header.split('|'))].sort()
  for (const id of ids) {
    const problem = tenantIdProblem(id)
    if (problem !== null) return problem
  }
  return ids
}
