import { encodeCursor } from './cursor.js'
import { mergeRuns, type Run } from './merge.js'
import type { QueryPart } from '../store/shard-messages.js'

// Merges the shards' sorted parts into one page of GET /logs. The shards
// rendered every entry as UTF-8 JSON already; consecutive entries taken from
// the same part are one contiguous byte range, so the front thread copies a
// few ranges and never builds a string per entry.

/** A part as a merge run: its current entry, and a shared flag set once an incomplete part runs out. */
export class PartRun implements Run {
  ts: number
  seq: number
  i = 0

  constructor (readonly part: QueryPart, private readonly halt: { now: boolean }) {
    this.ts = part.ts[0]!
    this.seq = part.seq[0]!
  }

  advance (): boolean {
    const i = ++this.i
    if (i >= this.part.ts.length) {
      // The shard stopped early: its next entries are unknown, so nothing after this may be taken.
      if (!this.part.complete) this.halt.now = true
      return false
    }
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

/** How a page is laid out: GET /logs's JSON object, NDJSON lines, or text lines. */
export type PageLayout = 'json' | 'ndjson' | 'text'

/**
 * A page in one of the layouts: for json, the body `{"logs":[...],"next":...}`
 * for up to `limit` entries merged from `parts` and about `maxBytes` of them,
 * as chunks to write in order: views into the parts' bytes, never one copied
 * buffer per page (a 150 KB allocation per query makes V8 run full
 * collections on the front thread often enough to show in p99). A page cut
 * short by `maxBytes`, or by a part a shard cut short, has a `next` cursor
 * that continues it. The parts' entries must be separated as the
 * layout separates them (',' for json, a newline for the others: the
 * renderers of each format do so); ndjson ends with a line `{"next": ...}`
 * when there is a next page, and text leaves the cursor to the caller (a
 * header), which gets it as `next`.
 */
export function renderPageAs (parts: QueryPart[], descending: boolean, limit: number, maxBytes: number, layout: PageLayout): { chunks: Uint8Array[], next: string | null } {
  const halt = { now: false }
  const runs = parts.filter((p) => p.ts.length > 0).map((p) => new PartRun(p, halt))
  let available = 0
  for (const r of runs) available += r.part.ts.length

  const chunks: Uint8Array[] = layout === 'json' ? [OPEN] : []
  const separator = layout === 'json' ? COMMA : NEWLINE
  let entriesWritten = false
  let current: PartRun | null = null
  let from = 0
  let to = 0
  let lastTs = 0
  let lastSeq = 0
  let emitted = 0
  let bytes = 0
  const flush = (): void => {
    if (current === null) return
    if (entriesWritten) chunks.push(separator)
    entriesWritten = true
    chunks.push(current.range(from, to))
  }
  mergeRuns(runs, descending, limit, (run) => {
    if (halt.now || (emitted > 0 && bytes >= maxBytes)) return false
    emitted++
    const { ends } = run.part
    bytes += ends[run.i]! - (run.i === 0 ? 0 : ends[run.i - 1]!)
    if (run !== current || run.i !== to + 1) {
      flush()
      current = run
      from = run.i
    }
    to = run.i
    lastTs = run.ts
    lastSeq = run.seq
    return true
  })
  flush()
  // Each shard sends up to limit + 1 entries, so entries left over mean another page.
  const more = emitted < available || parts.some((p) => !p.complete)
  const next = more ? encodeCursor({ after: { ts: lastTs, seq: lastSeq }, descending }) : null
  if (layout === 'json') chunks.push(Buffer.from(`],"next":${next === null ? 'null' : JSON.stringify(next)}}`))
  else {
    if (entriesWritten) chunks.push(NEWLINE)
    if (layout === 'ndjson' && next !== null) chunks.push(Buffer.from(`{"next":${JSON.stringify(next)}}\n`))
  }
  return { chunks, next }
}

const NEWLINE = Buffer.from('\n')

/** One entry of a merged page, with its order keys and its rendered bytes. */
export interface MergedEntry { ts: number, seq: number, body: Uint8Array }

/**
 * The shards' parts merged entry by entry (for tails, which need each
 * entry's order keys); `more` when entries past the limit exist.
 */
export function mergeEntries (parts: QueryPart[], descending: boolean, limit: number): { entries: MergedEntry[], more: boolean } {
  const halt = { now: false }
  const runs = parts.filter((p) => p.ts.length > 0).map((p) => new PartRun(p, halt))
  let available = 0
  for (const r of runs) available += r.part.ts.length
  const entries: MergedEntry[] = []
  mergeRuns(runs, descending, limit, (run) => {
    if (halt.now) return false
    entries.push({ ts: run.ts, seq: run.seq, body: run.range(run.i, run.i) })
    return true
  })
  return { entries, more: entries.length < available || parts.some((p) => !p.complete) }
}
