// JSON string escaping, done once per message when a block is sealed (and
// per entry only for the few entries still in open blocks), so a query copies
// message bytes into its answer as they are.

/** Characters that JSON.stringify escapes: quote, backslash, controls, and surrogates (lone ones get escaped). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** `s` as the inside of a JSON string literal (without the quotes). */
export function jsonEscape (s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s
  const quoted = JSON.stringify(s)
  return quoted.slice(1, -1)
}

/** `s` as a JSON string literal, with its quotes. */
export function jsonString (s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`
}

/** The text of an escaped string (what jsonEscape made). */
export function jsonUnescapeString (s: string): string {
  return s.includes('\\') ? JSON.parse(`"${s}"`) as string : s
}

/** The text inside a JSON string literal (without the quotes), given as UTF-8 bytes. */
export function jsonUnescape (bytes: Uint8Array, from: number, to: number): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // Without a backslash the escaped text is the text itself.
  const slash = buf.indexOf(92, from)
  if (slash < 0 || slash >= to) return buf.toString('utf8', from, to)
  return JSON.parse(`"${buf.toString('utf8', from, to)}"`) as string
}
