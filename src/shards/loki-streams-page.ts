import { LABELS_END } from '../store/render/loki-streams.js'
import type { QueryPart } from '../store/shard-messages.js'
import { mergeEntries } from './page.js'

// A Loki log query's answer from the shards' 'loki-streams' parts: entries
// merged in order, grouped into result streams by the bytes of their labels,
// and written as the shards rendered them. Nothing is parsed here.

const OPEN = Buffer.from('{"status":"success","data":{"resultType":"streams","result":[')
const STREAM = Buffer.from('{"stream":')
const VALUES = Buffer.from(',"values":[')
const COMMA = Buffer.from(',')
const CLOSE_STREAM = Buffer.from(']}')
const CLOSE = Buffer.from(']}}')
const CLOSE_CATEGORIZED = Buffer.from('],"encodingFlags":["categorize-labels"]}}')

interface Group { labels: Uint8Array, values: Uint8Array[] }

/** One merged entry as the shards rendered it ('loki-streams': labels, a 0 byte, the value). */
interface Rendered { body: Uint8Array }

/**
 * Entries grouped into Loki result streams, as the chunks of the members of a
 * `streams` array (`{"stream":{…},"values":[…]},…`): up to about `maxBytes`
 * of entries, streams in the order of their first entry.
 */
export function streamMembers (entries: readonly Rendered[], maxBytes = Infinity): Buffer[] {
  const groups = new Map<string, Group>()
  let bytes = 0
  for (const e of entries) {
    const body = Buffer.from(e.body.buffer, e.body.byteOffset, e.body.length)
    if (bytes > 0 && bytes + body.length > maxBytes) break
    bytes += body.length
    const cut = body.indexOf(LABELS_END)
    const key = body.toString('latin1', 0, cut)
    let g = groups.get(key)
    if (g === undefined) groups.set(key, g = { labels: body.subarray(0, cut), values: [] })
    g.values.push(body.subarray(cut + 1))
  }
  const chunks: Buffer[] = []
  for (const g of groups.values()) {
    if (chunks.length > 0) chunks.push(COMMA)
    chunks.push(STREAM, g.labels as Buffer, VALUES)
    for (let k = 0; k < g.values.length; k++) {
      if (k > 0) chunks.push(COMMA)
      chunks.push(g.values[k] as Buffer)
    }
    chunks.push(CLOSE_STREAM)
  }
  return chunks
}

/** A Loki log query's answer, as one buffer: up to `limit` entries merged from the parts and about `maxBytes` of them. */
export function lokiStreamsBody (parts: QueryPart[], descending: boolean, limit: number, maxBytes: number, categorize: boolean): Buffer[] {
  const { entries } = mergeEntries(parts, descending, limit)
  // One buffer: a chunk per value and separator would be thousands of socket writes per answer.
  return [Buffer.concat([OPEN, ...streamMembers(entries, maxBytes), categorize ? CLOSE_CATEGORIZED : CLOSE])]
}
