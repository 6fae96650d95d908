import { MAX_REJECTED_LISTED, type Rejected } from '../protocol.js'
import { shardOf } from '../shards/hash.js'
import { checkLine, type Window } from './entry.js'

// The front thread's part of NDJSON ingest: find the lines of the body and
// route each to its shard by a quick look at its "service" key, without
// parsing it; the shards parse and validate. A line the quick look cannot
// read (another spelling, escapes) is parsed here instead, and a shard that
// finds a line is not its own hands it back. Lines are passed as offsets into
// the body text, so no line string is built on the front thread.

const KEY = '"service":"'
const BACKSLASH = 92

/**
 * The service named by `"service":"…"` in text[start, end) as JSON.stringify
 * writes it, or null when that is not certain: no such key, an escape inside
 * the value, or a backslash right before the key. It may still be a nested or
 * repeated key, which the shard's own parse catches.
 */
export function quickService (text: string, start = 0, end = text.length): string | null {
  const at = text.indexOf(KEY, start)
  if (at < 0 || at >= end || (at > start && text.charCodeAt(at - 1) === BACKSLASH)) return null
  const from = at + KEY.length
  const to = text.indexOf('"', from)
  if (to < 0 || to >= end) return null
  const value = text.slice(from, to)
  return value.includes('\\') ? null : value
}

/** True when text[start, end) is only whitespace. */
function isBlank (text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 13) return false
  }
  return true
}

/** One shard's share of the lines: where each starts and ends in the body, and its entry index. */
export interface ShardLines {
  starts: number[]
  ends: number[]
  indexes: number[]
  /** Total length of these lines, for the memory and queue accounting. */
  chars: number
}

export interface RoutedLines {
  perShard: ShardLines[]
  /** Lines refused on the front (ones the quick look could not read and that failed to parse or validate). */
  rejected: Rejected[]
  rejectedCount: number
  /** Non-blank lines in all. */
  entries: number
}

export function routeLines (text: string, shards: number, window: Window): RoutedLines {
  const perShard: ShardLines[] = Array.from({ length: shards }, () => ({ starts: [], ends: [], indexes: [], chars: 0 }))
  const rejected: Rejected[] = []
  let rejectedCount = 0
  let index = 0
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    if (!isBlank(text, start, end)) {
      let service = quickService(text, start, end)
      if (service === null) {
        const entry = checkLine(text.slice(start, end), window)
        if (typeof entry === 'string') {
          if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index, error: entry })
          service = null
        } else {
          service = entry.service
        }
      }
      if (service !== null) {
        const share = perShard[shardOf(service, shards)]!
        share.starts.push(start)
        share.ends.push(end)
        share.indexes.push(index)
        share.chars += end - start
      }
      index++
    }
    start = end + 1
  }
  return { perShard, rejected, rejectedCount, entries: index }
}

/** The text of each line whose entry index is in `wanted`, in one pass. */
export function linesAt (text: string, routed: RoutedLines, wanted: readonly number[]): Map<number, string> {
  const want = new Set(wanted)
  const out = new Map<number, string>()
  for (const share of routed.perShard) {
    share.indexes.forEach((index, k) => {
      if (want.has(index)) out.set(index, text.slice(share.starts[k], share.ends[k]))
    })
  }
  return out
}
