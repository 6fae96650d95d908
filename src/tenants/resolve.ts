import type { IncomingHttpHeaders } from 'node:http'
import { BadTenantError, ForbiddenTenantError, NoOrgIdError } from '../core/errors.js'
import { FAKE_TENANT, parseOrgIds } from './tenant-id.js'

// Which tenant a request is for, decided once on the front thread: with
// MULTI_TENANT its X-Scope-OrgID header (Loki's), else tenant `fake` whatever
// it sends (Loki's auth_enabled: false). Pushes and tails name exactly one
// tenant; queries may name several, `a|b`, and their answers then carry a
// `__tenant_id__` label.

export const ORG_ID_HEADER = 'x-scope-orgid'

/** The tenants a request's token may name (http/access.ts); null: any tenant. */
export interface Allowed { readonly tenants: ReadonlySet<string> | null }

export const ANY_TENANT: Allowed = Object.freeze({ tenants: null })

export interface TenantResolver {
  /** The one tenant of a push or a tail; throws 401 without the header, 400 for a bad id or several, 403 for one `allowed` does not hold. */
  one (headers: IncomingHttpHeaders, allowed?: Allowed): string
  /** The tenants of a query, sorted; throws 401 without the header, 400 for a bad id, 403 for one `allowed` does not hold. */
  many (headers: IncomingHttpHeaders, allowed?: Allowed): string[]
}

const ONLY_FAKE = Object.freeze([FAKE_TENANT]) as unknown as string[]

/** Throws 403 unless the token may name every one of `tenants`. */
function checkAllowed (tenants: readonly string[], allowed: Allowed): void {
  const mine = allowed.tenants
  if (mine === null) return
  for (const t of tenants) {
    if (!mine.has(t)) throw new ForbiddenTenantError(`this token may not read or write tenant ${JSON.stringify(t)}; its tenants are ${[...mine].join(', ')} (TOKENS_FILE)`)
  }
}

export function tenantResolver (multiTenant: boolean): TenantResolver {
  if (!multiTenant) {
    return {
      one: (_headers, allowed = ANY_TENANT) => {
        checkAllowed(ONLY_FAKE, allowed)
        return FAKE_TENANT
      },
      many: (_headers, allowed = ANY_TENANT) => {
        checkAllowed(ONLY_FAKE, allowed)
        return ONLY_FAKE
      }
    }
  }
  const many = (headers: IncomingHttpHeaders, allowed: Allowed = ANY_TENANT): string[] => {
    const raw = headers[ORG_ID_HEADER]
    const header = Array.isArray(raw) ? raw.join('|') : raw
    if (header === undefined || header === '') {
      // A token bound to one tenant names it: its requests need no header.
      if (allowed.tenants !== null && allowed.tenants.size === 1) return [...allowed.tenants]
      throw new NoOrgIdError()
    }
    const ids = parseOrgIds(header)
    if (typeof ids === 'string') throw new BadTenantError(`X-Scope-OrgID: ${ids}`)
    checkAllowed(ids, allowed)
    return ids
  }
  return {
    many,
    one (headers, allowed) {
      const ids = many(headers, allowed)
      if (ids.length > 1) throw new BadTenantError(`X-Scope-OrgID names ${ids.length} tenants (${ids.join('|')}); a push or a tail is for exactly one tenant`)
      return ids[0]!
    }
  }
}
