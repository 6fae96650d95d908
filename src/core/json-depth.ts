// How deep a JSON value may nest. JSON.parse reads any depth (V8's parser
// keeps its own stack: 1,000,000 nested objects parse), but every recursive
// walk after it (flattening attributes, OTLP AnyValue, JSON.stringify,
// `| json`) overflowed the stack at about 10,000 levels: a 500 on ingest, so
// shippers resent the poisoned batch forever, and a 500 for every query
// over a stored deep line. Ingest refuses documents past the limit; queries
// read a stored line's fields down to it.

/** Most nested objects and arrays in one document or line. */
export const MAX_JSON_DEPTH = 100

/** What to tell a sender whose document nests past the limit. */
export const TOO_DEEP = `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels (the limit); flatten it, or send the deep part as a string`

/** Whether `value` nests objects and arrays deeper than `limit` (a bare value is depth 0); iterative, so any depth is safe to ask about. */
export function nestsDeeper (value: unknown, limit = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false
  const stack: Array<[object, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (depth > limit) return true
    const children = Array.isArray(node) ? node as unknown[] : Object.values(node)
    // Bytes (msgpack bin) are a value, not a level.
    for (const child of children) if (child !== null && typeof child === 'object' && !ArrayBuffer.isView(child)) stack.push([child, depth + 1])
  }
  return false
}
