import { createHash, timingSafeEqual } from 'node:crypto'
import { UnauthorizedError } from '../core/errors.js'

// Optional bearer tokens. AUTH_TOKEN may read and write; INGEST_TOKEN may only
// write (POST /logs); QUERY_TOKEN may only read (GET /logs, GET /services).
// METRICS_TOKEN alone guards GET /metrics, so a scraper holds no other token.
// A scope is protected as soon as a token that grants it is set; /healthz is
// always open. Tokens are compared as SHA-256 digests with timingSafeEqual, so
// neither their content nor their length leaks through timing. Shippers that
// only speak Basic auth (rsyslog's omelasticsearch, Fluent Bit's es output)
// send the token as the password, with any user name.

export type Scope = 'ingest' | 'query' | 'metrics'

export interface Tokens {
  auth: string
  ingest: string
  query: string
  metrics: string
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** The token of `Bearer <token>`, or the password of `Basic base64(user:password)`; null for anything else. */
export function tokenOf (authorization: string): string | null {
  const m = /^(Bearer|Basic)[ \t]+(\S+)[ \t]*$/i.exec(authorization)
  if (m === null) return null
  if (m[1]!.toLowerCase() === 'bearer') return m[2]!
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 || colon === decoded.length - 1 ? null : decoded.slice(colon + 1)
}

/** Returns a check that throws 401 unless `authorization` carries a token granting `scope`; null when the scope is open. */
export function tokenCheck (scope: Scope, tokens: Tokens): ((authorization: string | undefined) => void) | null {
  const granting = (scope === 'metrics' ? [tokens.metrics] : [tokens.auth, scope === 'ingest' ? tokens.ingest : tokens.query]).filter((t) => t !== '').map(digest)
  if (granting.length === 0) return null
  const other = scope === 'ingest' ? tokens.query : scope === 'query' ? tokens.ingest : ''
  const otherDigest = other === '' ? null : digest(other)
  const envNames = scope === 'ingest' ? 'INGEST_TOKEN or AUTH_TOKEN' : scope === 'query' ? 'QUERY_TOKEN or AUTH_TOKEN' : 'METRICS_TOKEN'

  return function checkToken (authorization) {
    const token = authorization === undefined ? null : tokenOf(authorization)
    if (token === null) {
      throw new UnauthorizedError(`this endpoint needs a token: send the header "Authorization: Bearer <token>" with the ${envNames} value (or Basic auth with the token as the password)`)
    }
    const given = digest(token)
    // Compare against every granting token without stopping early.
    let ok = false
    for (const d of granting) ok = timingSafeEqual(given, d) || ok
    if (ok) return
    if (otherDigest !== null && timingSafeEqual(given, otherDigest)) {
      throw new UnauthorizedError(`this token may only ${scope === 'ingest' ? 'query' : 'ingest'}; this endpoint needs the ${envNames} value`)
    }
    throw new UnauthorizedError(`the token is not valid for this endpoint; send the ${envNames} value`)
  }
}
