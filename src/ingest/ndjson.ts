import { MAX_REJECTED_LISTED, type Rejected } from '../protocol.js'
import { shardOf } from '../shards/hash.js'
import { checkLine, type Window } from './entry.js'

// The front thread's part of NDJSON ingest: split the body into lines and
// route each to its shard by a quick look at its "service" key, without
// parsing it; the shards parse and validate. A line the quick look cannot
// read (another spelling, escapes) is parsed here instead, and a shard that
// finds a line is not its own hands it back.

const KEY = '"service":"'

/**
 * The service named by `"service":"…"` in a line as JSON.stringify writes it,
 * or null when that is not certain: no such key, an escape inside the value,
 * or a backslash right before the key. It may still be a nested or repeated
 * key, which the shard's own parse catches.
 */
export function quickService (line: string): string | null {
  const at = line.indexOf(KEY)
  if (at < 0 || (at > 0 && line.charCodeAt(at - 1) === 92)) return null
  const start = at + KEY.length
  const end = line.indexOf('"', start)
  if (end < 0) return null
  const value = line.slice(start, end)
  return value.includes('\\') ? null : value
}

function isBlank (line: string): boolean {
  return line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === '')
}

export interface RoutedLines {
  /** Per shard: its lines and their entry indexes. */
  lines: string[][]
  indexes: number[][]
  /** Lines refused on the front (ones the quick look could not read and that failed to parse or validate). */
  rejected: Rejected[]
  rejectedCount: number
  /** Non-blank lines in all. */
  entries: number
}

export function routeLines (text: string, shards: number, window: Window): RoutedLines {
  const lines: string[][] = Array.from({ length: shards }, () => [])
  const indexes: number[][] = Array.from({ length: shards }, () => [])
  const rejected: Rejected[] = []
  let rejectedCount = 0
  let index = 0
  for (const line of text.split('\n')) {
    if (isBlank(line)) continue
    let service = quickService(line)
    if (service === null) {
      const entry = checkLine(line, window)
      if (typeof entry === 'string') {
        if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index, error: entry })
        index++
        continue
      }
      service = entry.service
    }
    const shard = shardOf(service, shards)
    lines[shard]!.push(line)
    indexes[shard]!.push(index)
    index++
  }
  return { lines, indexes, rejected, rejectedCount, entries: index }
}
