import { createHash, timingSafeEqual } from 'node:crypto'
import { parse } from 'yaml'
import { tenantIdProblem } from './tenant-id.js'

// TOKENS_FILE: bearer tokens bound to tenants and scopes, in YAML.
//
//   tokens:
//     - token: "a-long-secret-0123456789"
//       tenants: [team-a]          # or ["*"] for every tenant
//       scopes: [ingest, query]    # ingest | query | metrics | admin
//
// A file is checked whole before it is used (watched-file.ts keeps the one in
// force when a new one is bad). Tokens are kept as SHA-256 digests and a
// lookup compares the digest of the token sent with every one of them
// (timingSafeEqual on equal-length digests, no early exit), so neither a
// token's content nor its length nor its place in the file leaks through timing.

export const SCOPES = ['ingest', 'query', 'metrics', 'admin'] as const
export type Scope = typeof SCOPES[number]

/** What a token may do: its scopes, and its tenants (null: every tenant, `["*"]`). */
export interface Grant {
  readonly scopes: ReadonlySet<Scope>
  readonly tenants: ReadonlySet<string> | null
}

export class TokensFileError extends Error {
  override name = 'TokensFileError'
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Tokens as in AUTH_TOKEN: at least 16 printable ASCII characters, no spaces. */
const TOKEN = /^[\x21-\x7e]{16,}$/

export class TokenTable {
  private constructor (private readonly digests: Buffer[], private readonly grants: Grant[]) {}

  get size (): number { return this.grants.length }

  /** The grant of `token`, or null when the file does not hold it; compares with every entry. */
  lookup (token: string): Grant | null {
    const given = digest(token)
    let found = -1
    for (let i = 0; i < this.digests.length; i++) if (timingSafeEqual(given, this.digests[i]!) && found === -1) found = i
    return found === -1 ? null : this.grants[found]!
  }

  /** Parses and checks a tokens file's text; throws TokensFileError naming the first problem and where. */
  static parse (text: string): TokenTable {
    let doc: unknown
    try {
      doc = parse(text)
    } catch (err) {
      throw new TokensFileError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`)
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new TokensFileError('expected a mapping with a `tokens` list at the top')
    for (const key of Object.keys(doc)) if (key !== 'tokens') throw new TokensFileError(`unknown key ${JSON.stringify(key)} at the top; only \`tokens\` is read`)
    const list = (doc as { tokens?: unknown }).tokens
    if (!Array.isArray(list)) throw new TokensFileError('`tokens` must be a list of {token, tenants, scopes}')
    const digests: Buffer[] = []
    const grants: Grant[] = []
    const seen = new Set<string>()
    list.forEach((item: unknown, i) => {
      const where = `tokens[${i}]`
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new TokensFileError(`${where} must be a mapping with token, tenants and scopes`)
      const { token, tenants, scopes, ...rest } = item as Record<string, unknown>
      const extra = Object.keys(rest)[0]
      if (extra !== undefined) throw new TokensFileError(`${where} has an unknown key ${JSON.stringify(extra)}; the keys are token, tenants and scopes`)
      // Never echo a token, even a bad one.
      if (typeof token !== 'string' || !TOKEN.test(token)) throw new TokensFileError(`${where}.token must be a string of at least 16 printable ASCII characters without spaces`)
      const d = digest(token).toString('hex')
      if (seen.has(d)) throw new TokensFileError(`${where}.token is listed twice; give each token one entry`)
      seen.add(d)
      if (!Array.isArray(tenants) || tenants.length === 0) throw new TokensFileError(`${where}.tenants must be a non-empty list of tenant ids, or ["*"] for every tenant`)
      let tenantSet: Set<string> | null = new Set()
      for (const t of tenants) {
        if (t === '*') {
          tenantSet = null
          continue
        }
        if (typeof t !== 'string') throw new TokensFileError(`${where}.tenants must hold strings; got ${JSON.stringify(t)}`)
        const problem = tenantIdProblem(t)
        if (problem !== null) throw new TokensFileError(`${where}.tenants: ${problem}`)
        tenantSet?.add(t)
      }
      if (!Array.isArray(scopes) || scopes.length === 0) throw new TokensFileError(`${where}.scopes must be a non-empty list of ${SCOPES.join(', ')}`)
      for (const s of scopes) if (!(SCOPES as readonly unknown[]).includes(s)) throw new TokensFileError(`${where}.scopes: ${JSON.stringify(s)} is not one of ${SCOPES.join(', ')}`)
      digests.push(digest(token))
      grants.push(Object.freeze({ scopes: new Set(scopes as Scope[]), tenants: tenantSet }))
    })
    return new TokenTable(digests, grants)
  }
}
