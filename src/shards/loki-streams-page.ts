import { LABELS_END } from '../store/render/loki-streams.js'
import type { QueryPart } from '../store/shard-messages.js'
import { mergeRuns } from './merge.js'
import { PartRun } from './page.js'

// Loki result streams from what the shards rendered, never parsed here: a
// query's answer from 'loki-answer' parts (lokiStreamsBody, grouped by each
// part's label-set index), and a tail's entries from 'loki-streams' ones
// (streamMembers, grouped by the bytes of their labels).

const OPEN = Buffer.from('{"status":"success","data":{"resultType":"streams","result":[')
const STREAM = Buffer.from('{"stream":')
const VALUES = Buffer.from(',"values":[')
const COMMA = Buffer.from(',')
const CLOSE_STREAM = Buffer.from(']}')
const CLOSE = Buffer.from(']}}')
const CLOSE_CATEGORIZED = Buffer.from('],"encodingFlags":["categorize-labels"]}}')

/** Chunks an answer is written as at most; more are joined into one buffer first. */
const MAX_CHUNKS = 64

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

/** A result stream being gathered: its labels, and its values as ranges of entries [from, to] of one part each, in order. */
interface Gathered { labels: string, parts: QueryPart[], from: number[], to: number[] }

/**
 * A Loki log query's answer from the shards' 'loki-answer' parts: up to
 * `limit` entries merged in order and about `maxBytes` of them, grouped into
 * result streams by the index each part gives its entries' label sets.
 * Consecutive entries of one part that land in the same stream are one byte
 * range of its body (the values are comma-separated there as in the answer),
 * so a page of one stream is written as a single range; no object is made
 * per entry and nothing is parsed.
 */
export function lokiStreamsBody (parts: QueryPart[], descending: boolean, limit: number, maxBytes: number, categorize: boolean): Uint8Array[] {
  const halt = { now: false }
  const runs = parts.filter((p) => p.ts.length > 0).map((p) => new PartRun(p, halt))
  const byLabels = new Map<string, Gathered>()
  // Each part's label-set index → its result stream.
  const local = new Map<QueryPart, Gathered[]>()
  for (const run of runs) {
    const table = run.part.streams?.labels ?? []
    local.set(run.part, table.map((labels) => {
      let g = byLabels.get(labels)
      if (g === undefined) byLabels.set(labels, g = { labels, parts: [], from: [], to: [] })
      return g
    }))
  }
  // Streams in the order of their first entry.
  const order: Gathered[] = []
  let bytes = 0
  mergeRuns(runs, descending, limit, (run) => {
    if (halt.now) return false
    const { part, i } = run
    const { ends } = part
    const size = ends[i]! - (i === 0 ? 0 : ends[i - 1]! + 1)
    if (bytes > 0 && bytes + size > maxBytes) return false
    bytes += size
    const g = local.get(part)![part.streams!.of[i]!]!
    const k = g.to.length - 1
    if (k < 0) order.push(g)
    if (k >= 0 && g.parts[k] === part && g.to[k] === i - 1) g.to[k] = i
    else {
      g.parts.push(part)
      g.from.push(i)
      g.to.push(i)
    }
    return true
  })
  const chunks: Uint8Array[] = [OPEN]
  let first = true
  for (const g of order) {
    if (!first) chunks.push(COMMA)
    first = false
    chunks.push(STREAM, Buffer.from(g.labels), VALUES)
    for (let k = 0; k < g.from.length; k++) {
      if (k > 0) chunks.push(COMMA)
      const { body, ends } = g.parts[k]!
      const from = g.from[k]!
      chunks.push(body.subarray(from === 0 ? 0 : ends[from - 1]! + 1, ends[g.to[k]!]))
    }
    chunks.push(CLOSE_STREAM)
  }
  chunks.push(categorize ? CLOSE_CATEGORIZED : CLOSE)
  // Views into the parts' bytes (no copy of the answer) unless they are many small ranges (many streams), which would be as many socket writes.
  return chunks.length <= MAX_CHUNKS ? chunks : [Buffer.concat(chunks)]
}
