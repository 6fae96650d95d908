import type { IncomingHttpHeaders } from 'node:http'
import { BadTenantError, NoOrgIdError } from '../core/errors.js'
import { FAKE_TENANT, parseOrgIds } from './tenant-id.js'

// Which tenant a request is for, decided once on the front thread: with
// MULTI_TENANT its X-Scope-OrgID header (Loki's), else tenant `fake` whatever
// it sends (Loki's auth_enabled: false). Pushes and tails name exactly one
// tenant; queries may name several, `a|b`, and their answers then carry a
// `__tenant_id__` label.

export const ORG_ID_HEADER = 'x-scope-orgid'

export interface TenantResolver {
  /** The one tenant of a push or a tail; throws 401 without the header, 400 for a bad id or several. */
  one (headers: IncomingHttpHeaders): string
  /** The tenants of a query, sorted; throws 401 without the header, 400 for a bad id. */
  many (headers: IncomingHttpHeaders): string[]
}

const ONLY_FAKE = Object.freeze([FAKE_TENANT]) as unknown as string[]

export function tenantResolver (multiTenant: boolean): TenantResolver {
  if (!multiTenant) return { one: () => FAKE_TENANT, many: () => ONLY_FAKE }
  const many = (headers: IncomingHttpHeaders): string[] => {
    const raw = headers[ORG_ID_HEADER]
    const header = Array.isArray(raw) ? raw.join('|') : raw
    if (header === undefined || header === '') throw new NoOrgIdError()
    const ids = parseOrgIds(header)
    if (typeof ids === 'string') throw new BadTenantError(`X-Scope-OrgID: ${ids}`)
    return ids
  }
  return {
    many,
    one (headers) {
      const ids = many(headers)
      if (ids.length > 1) throw new BadTenantError(`X-Scope-OrgID names ${ids.length} tenants (${ids.join('|')}); a push or a tail is for exactly one tenant`)
      return ids[0]!
    }
  }
}
