import { encodeCursor } from './cursor.js'
import { mergeRuns, type Run } from './merge.js'
import type { QueryPart } from './protocol.js'

// Merges the shards' sorted parts into one page of GET /logs. The shards
// rendered every entry as UTF-8 JSON already; consecutive entries taken from
// the same part are one contiguous byte range, so the front thread copies a
// few ranges and never builds a string per entry.

class PartRun implements Run {
  ts: number
  seq: number
  i = 0

  constructor (readonly part: QueryPart) {
    this.ts = part.ts[0]!
    this.seq = part.seq[0]!
  }

  advance (): boolean {
    const i = ++this.i
    if (i >= this.part.ts.length) return false
    this.ts = this.part.ts[i]!
    this.seq = this.part.seq[i]!
    return true
  }

  /** Bytes of entries from..to (inclusive) of this part. */
  range (from: number, to: number): Uint8Array {
    const { body, ends } = this.part
    return body.subarray(from === 0 ? 0 : ends[from - 1]! + 1, ends[to])
  }
}

const COMMA = Buffer.from(',')
const OPEN = Buffer.from('{"logs":[')

/**
 * The JSON body `{"logs":[...],"next":...}` for up to `limit` entries merged
 * from `parts`, as chunks to write in order: views into the parts' bytes,
 * never one copied buffer per page (a 150 KB allocation per query makes V8
 * run full collections on the front thread often enough to show in p99).
 */
export function renderPage (parts: QueryPart[], descending: boolean, limit: number): Uint8Array[] {
  const runs = parts.filter((p) => p.ts.length > 0).map((p) => new PartRun(p))
  let available = 0
  for (const r of runs) available += r.part.ts.length

  const chunks: Uint8Array[] = [OPEN]
  let current: PartRun | null = null
  let from = 0
  let to = 0
  let lastTs = 0
  let lastSeq = 0
  const flush = (): void => {
    if (current === null) return
    if (chunks.length > 1) chunks.push(COMMA)
    chunks.push(current.range(from, to))
  }
  mergeRuns(runs, descending, limit, (run) => {
    if (run !== current || run.i !== to + 1) {
      flush()
      current = run
      from = run.i
    }
    to = run.i
    lastTs = run.ts
    lastSeq = run.seq
  })
  flush()
  // Each shard sends up to limit + 1 entries, so more than `limit` in all means another page.
  const next = available > limit ? JSON.stringify(encodeCursor({ after: { ts: lastTs, seq: lastSeq }, descending })) : 'null'
  chunks.push(Buffer.from(`],"next":${next}}`))
  return chunks
}
