import { CATEGORIZE, getJson, type LokiData, type LokiStream } from './api.js'
import { rowsOf, type Row } from './rows.js'

// The results a page at a time (Loki query_range, at most 5000 lines each):
// each next page starts at the time the last one stopped, inclusive, since
// that page may have stopped among lines of one microsecond; the lines of
// that microsecond already shown are counted by stream and line and dropped
// from the next page instead of being shown twice.

const rowKey = (r: Row): string => `${JSON.stringify(r.stream)}\0${r.line}`

export class Pager {
  /** Where the next page continues (ns text), or null when the range is read to its end. */
  nextAt: string | null = null
  /** The lines already shown at the time nextAt names, counted by stream and line. */
  private edgeSeen: { ns: string, keys: Map<string, number> } | null = null

  constructor (private readonly desc: () => boolean) {}

  reset (): void {
    this.nextAt = null
    this.edgeSeen = null
  }

  /** One page of `wanted` lines at most, from `startNs` to `endNs`; sets nextAt. */
  async page (query: string, startNs: string, endNs: string, wanted: number, signal: AbortSignal): Promise<Row[]> {
    const desc = this.desc()
    const seen = this.edgeSeen
    // The lines seen at the edge come again first: ask for that many more (at most Loki's 5000).
    let again = 0
    for (const n of seen?.keys.values() ?? []) again += n
    const limit = Math.min(5000, wanted + again)
    const params = { query, start: startNs, end: endNs, limit: String(limit), direction: desc ? 'backward' : 'forward' }
    const answer = await getJson<LokiData<LokiStream>>('/loki/api/v1/query_range', params, CATEGORIZE, signal)
    const raw = rowsOf(answer.data.result)
    let rows = raw
    if (seen !== null) {
      const left = new Map(seen.keys)
      rows = raw.filter((r) => {
        if (r.ns !== seen.ns) return true
        const n = left.get(rowKey(r)) ?? 0
        if (n === 0) return true
        left.set(rowKey(r), n - 1)
        return false
      })
    }
    const edge = desc ? raw[0] : raw[raw.length - 1]
    if (raw.length < limit || edge === undefined) {
      this.reset()
      return rows
    }
    if (seen?.ns === edge.ns && rows.length === 0) {
      // A whole page of one microsecond, all shown already: step past it (the rest of it is skipped).
      this.nextAt = String((BigInt(edge.ns) / 1000n + (desc ? -1n : 1n)) * 1000n)
      this.edgeSeen = null
      return rows
    }
    const keys = new Map(seen?.ns === edge.ns ? seen.keys : [])
    for (const r of rows) if (r.ns === edge.ns) keys.set(rowKey(r), (keys.get(rowKey(r)) ?? 0) + 1)
    this.nextAt = edge.ns
    this.edgeSeen = { ns: edge.ns, keys }
    return rows
  }
}
