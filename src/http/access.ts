import { ForbiddenTenantError, UnauthorizedError } from '../core/errors.js'
import { tokenCheck, tokenOf, type Tokens } from './auth.js'
import { ANY_TENANT, type Allowed } from '../tenants/resolve.js'
import type { Scope, TokenTable } from '../tenants/tokens-file.js'

// Who may do what, for each request: its token's scope, and the tenants it
// may name. Two sources of tokens:
//
//   AUTH_TOKEN / INGEST_TOKEN / QUERY_TOKEN / METRICS_TOKEN (http/auth.ts): a scope, every tenant
//   TOKENS_FILE (tokens-file.ts): each token its own scopes and tenants, reloaded while running
//
// With TOKENS_FILE set, every scope needs a token (of the file, or one of the
// settings above that grants the scope); without it, a scope is open until a
// setting's token grants it, as before. The tenants a request names are
// checked against its token's afterwards (tenants/resolve.ts): a token for
// team-a answers 403 for team-b whatever X-Scope-OrgID says.

export interface AccessOptions {
  legacy: Tokens
  /** TOKENS_FILE's table as it is now (it is reloaded), or null when TOKENS_FILE is unset. */
  table: (() => TokenTable) | null
}

/** Throws 401 / 403 unless `authorization` may use `scope`; returns which tenants it may name. */
export type AccessCheck = (authorization: string | undefined) => Allowed

const LEGACY_NAMES: Record<Scope, string> = { ingest: 'INGEST_TOKEN or AUTH_TOKEN', query: 'QUERY_TOKEN or AUTH_TOKEN', metrics: 'METRICS_TOKEN', admin: 'AUTH_TOKEN' }

/** The check for `scope`; null when the scope is open (no TOKENS_FILE, and no setting's token grants it). */
export function accessCheck (scope: Scope, options: AccessOptions): AccessCheck | null {
  // The admin scope (the delete API) is AUTH_TOKEN's among the settings' tokens.
  const legacy = tokenCheck(scope === 'admin' ? 'ingest' : scope, scope === 'admin' ? { ...options.legacy, ingest: '' } : options.legacy)
  const { table } = options
  if (table === null) {
    if (legacy === null) return null
    return (authorization) => {
      legacy(authorization)
      return ANY_TENANT
    }
  }
  return function checkAccess (authorization) {
    const token = authorization === undefined ? null : tokenOf(authorization)
    if (token === null) {
      throw new UnauthorizedError(`this endpoint needs a token: send "Authorization: Bearer <token>" with a token of TOKENS_FILE that has the ${scope} scope${legacy === null ? '' : ` (or the ${LEGACY_NAMES[scope]} value)`}`)
    }
    const grant = table().lookup(token)
    if (grant !== null) {
      if (!grant.scopes.has(scope)) throw new ForbiddenTenantError(`this token's scopes are ${[...grant.scopes].join(', ')}; this endpoint needs the ${scope} scope (TOKENS_FILE)`)
      return grant.tenants === null ? ANY_TENANT : { tenants: grant.tenants }
    }
    if (legacy === null) throw new UnauthorizedError(`the token is not in TOKENS_FILE; send a token of TOKENS_FILE that has the ${scope} scope`)
    legacy(authorization)
    return ANY_TENANT
  }
}
