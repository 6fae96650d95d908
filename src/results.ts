import { encodeCursor } from './cursor.js'
import { mergeRuns, type Run } from './merge.js'
import type { QueryPart } from './protocol.js'
import { formatTimestamp } from './timestamp.js'

// Merges the shards' sorted parts into one page and renders it as the JSON
// body of GET /logs, writing the text directly instead of building objects.

class PartRun implements Run {
  ts: number
  seq: number
  i = 0
  /** JSON text of each service name, rendered once per part. */
  readonly serviceJson: string[]

  constructor (readonly part: QueryPart) {
    this.ts = part.ts[0]!
    this.seq = part.seq[0]!
    this.serviceJson = part.services.map((s) => JSON.stringify(s))
  }

  advance (): boolean {
    const i = ++this.i
    if (i >= this.part.ts.length) return false
    this.ts = this.part.ts[i]!
    this.seq = this.part.seq[i]!
    return true
  }
}

/** Renders `{"logs":[...],"next":...}` for up to `limit` entries merged from `parts`. */
export function renderPage (parts: QueryPart[], descending: boolean, limit: number): string {
  const runs = parts.filter((p) => p.ts.length > 0).map((p) => new PartRun(p))
  let available = 0
  for (const r of runs) available += r.part.ts.length

  const items: string[] = []
  let lastTs = 0
  let lastSeq = 0
  mergeRuns(runs, descending, limit, (run) => {
    const { part, i } = run
    lastTs = run.ts
    lastSeq = run.seq
    items.push(`{"service":${run.serviceJson[part.serviceIdx[i]!]!},"timestamp":"${formatTimestamp(run.ts)}","message":${JSON.stringify(part.messages[i])}}`)
  })
  // Each shard sends up to limit + 1 entries, so more than `limit` in all means another page.
  const next = available > limit ? JSON.stringify(encodeCursor({ after: { ts: lastTs, seq: lastSeq }, descending })) : 'null'
  return `{"logs":[${items.join(',')}],"next":${next}}`
}
