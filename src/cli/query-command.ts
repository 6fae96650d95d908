import type { Client } from './client.js'
import { filterParams, type FilterOptions } from './filters.js'
import { readEntries } from './ndjson-reader.js'
import type { EntrySink } from './output.js'

// `logagg query`: GET /logs page by page (NDJSON, parsed line by line and
// written as it arrives), following the `next` cursors until the entries
// run out or --limit of them were written.

export interface QueryOptions extends FilterOptions {
  /** Entries wanted in all; undefined for every matching entry. */
  limit?: number
  /** Entries asked for per request. */
  pageSize: number
  order?: 'asc' | 'desc'
}

export const DEFAULT_PAGE_SIZE = 1000

/** Runs the query into `sink`; returns how many entries were written. */
export async function runQuery (client: Client, o: QueryOptions, sink: EntrySink, notice: (message: string) => void): Promise<number> {
  const params = filterParams(o)
  if (o.order !== undefined) params.set('order', o.order)
  params.set('format', 'ndjson')
  let written = 0
  let cursor: string | null = null
  for (;;) {
    const wanted = o.limit === undefined ? o.pageSize : Math.min(o.pageSize, o.limit - written)
    params.set('limit', String(wanted))
    if (cursor !== null) params.set('cursor', cursor)
    const res = await client.ok('/logs', params)
    const page = await readEntries(res, sink, notice)
    written += page.entries
    cursor = page.next
    if (cursor === null || (o.limit !== undefined && written >= o.limit)) break
  }
  await sink.end()
  return written
}
