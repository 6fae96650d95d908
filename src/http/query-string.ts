import { BadQueryError, QueryTooLongError } from '../core/errors.js'

// Reads every parameter of a query string. node:querystring keeps only the
// first 1000 keys and drops the rest without a word, so a limit or cursor past
// them was ignored; here every parameter is read, and a query string over the
// documented bounds is refused instead of cut.

/** Longest query string read, in characters (414 above). */
export const MAX_QUERY_LENGTH = 8192
/** Most parameters read (400 above). */
export const MAX_QUERY_PARAMS = 256

export type QueryValues = Record<string, string | string[]>

/** Parses `a=1&b=2&a=3` into `{a: ['1', '3'], b: '2'}`; throws 414 or 400 past the bounds. */
export function parseQueryString (query: string | null | undefined): QueryValues {
  // Express passes null when the URL has no query string.
  query ??= ''
  if (query.length > MAX_QUERY_LENGTH) {
    throw new QueryTooLongError(`the query string is ${query.length} characters long; the limit is ${MAX_QUERY_LENGTH}`)
  }
  const out: QueryValues = Object.create(null) as QueryValues
  let count = 0
  let replaced = false
  for (const [key, value] of new URLSearchParams(query)) {
    if (!replaced && (key.includes('\uFFFD') || value.includes('\uFFFD'))) replaced = true
    if (++count > MAX_QUERY_PARAMS) {
      throw new BadQueryError(`the query has more than ${MAX_QUERY_PARAMS} parameters; send fewer (each service name counts as one)`)
    }
    const held = out[key]
    if (held === undefined) out[key] = value
    else if (typeof held === 'string') out[key] = [held, value]
    else held.push(value)
  }
  // URLSearchParams puts U+FFFD for bytes that are not UTF-8; a query that
  // means other bytes than it says is refused, as Loki refuses it.
  if (replaced) for (const part of query.split('&')) notUtf8(part)
  return out
}

function notUtf8 (part: string): void {
  try {
    decodeURIComponent(part.replace(/%(?![0-9a-fA-F]{2})/g, '%25').replaceAll('+', ' '))
  } catch {
    throw new BadQueryError(`the query string is not valid UTF-8 (at ${JSON.stringify(part.slice(0, 60))}); percent-encode text as UTF-8`)
  }
}
