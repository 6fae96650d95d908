import { MAX_REJECTED_LISTED, type Rejected } from './batch.js'
import { shardOf } from '../core/hash.js'
import { checkLine, type Window } from './entry.js'

// The front thread's part of NDJSON ingest: find the lines of the body and
// route each to its shard by a quick look at its "service" key, without
// parsing it; the shards parse and validate. A line the quick look cannot
// read (escapes, a value that is not a string) is parsed here instead, and a
// shard that finds a line is not its own hands it back. Every look stays
// within its line, so routing costs time in proportion to the body, whatever
// the lines hold. Each shard is then sent a text of its own lines only.
//
// An NDJSON body stays bytes on the front (a Buffer): lines are found with
// memchr, the quick look reads bytes, and each shard is sent (transferred,
// not copied) a buffer of its own lines, which it decodes itself. A large
// JSON array arrives here as text (its elements were found by a scan of the
// text), so every step takes either.

/** A body: NDJSON bytes, or the text of a JSON array. */
export type Body = string | Buffer

const KEY = '"service"'
const BACKSLASH = 92
const QUOTE = 34
const COLON = 58

/** The first index from `i` that is not JSON whitespace. */
function skipSpace (line: string, i: number): number {
  for (;;) {
    const c = line.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return i
    i++
  }
}

/**
 * The service named by a `"service": "…"` key in text[start, end), in any
 * JSON spacing and key order, or null when that is not certain: no such key,
 * a value that is not a plain string, or an escape inside it. It may still be
 * a nested or repeated key, which the shard's own parse catches. Nothing past
 * `end` is read.
 */
export function quickService (text: string, start = 0, end = text.length): string | null {
  const line = text.slice(start, end)
  for (let at = line.indexOf(KEY); at >= 0; at = line.indexOf(KEY, at + 1)) {
    if (at > 0 && line.charCodeAt(at - 1) === BACKSLASH) continue // inside a string
    let i = skipSpace(line, at + KEY.length)
    if (line.charCodeAt(i) !== COLON) continue // a value that reads "service"
    i = skipSpace(line, i + 1)
    if (line.charCodeAt(i) !== QUOTE) return null
    const to = line.indexOf('"', i + 1)
    if (to < 0) return null
    const value = line.slice(i + 1, to)
    return value.includes('\\') ? null : value
  }
  return null
}

const KEY_BYTES = Buffer.from(KEY)

/** quickService over bytes: buf[start, end) is one line; nothing past `end` is read. */
export function quickServiceBytes (buf: Buffer, start = 0, end = buf.length): string | null {
  const line = buf.subarray(start, end)
  const skip = (i: number): number => {
    for (;;) {
      const c = line[i]
      if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return i
      i++
    }
  }
  for (let at = line.indexOf(KEY_BYTES); at >= 0; at = line.indexOf(KEY_BYTES, at + 1)) {
    if (at > 0 && line[at - 1] === BACKSLASH) continue // inside a string
    let i = skip(at + KEY_BYTES.length)
    if (line[i] !== COLON) continue // a value that reads "service"
    i = skip(i + 1)
    if (line[i] !== QUOTE) return null
    const to = line.indexOf(QUOTE, i + 1)
    if (to < 0) return null
    const slash = line.indexOf(BACKSLASH, i + 1)
    if (slash >= 0 && slash < to) return null
    return line.toString('utf8', i + 1, to)
  }
  return null
}

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
/** quickShardBytes: not certain (the shard must be found from the parsed line). */
const UNSURE = -1
/** quickShardBytes: a value with bytes beyond ASCII, whose hash is over UTF-16 code units (the string's). */
const NOT_ASCII = -2

/**
 * FNV-1a of the string value whose opening quote is at buf[i], a byte at a
 * time (the same as fnv1a() of the string while every byte is ASCII), or
 * UNSURE (an escape, no closing quote before `end`) or NOT_ASCII.
 */
function valueHash (buf: Buffer, i: number, end: number): number {
  let h = FNV_OFFSET
  for (let k = i + 1; k < end; k++) {
    const c = buf[k]!
    if (c === QUOTE) return h >>> 0
    if (c === BACKSLASH) return UNSURE
    if (c >= 0x80) return NOT_ASCII
    h ^= c
    h = Math.imul(h, FNV_PRIME)
  }
  return UNSURE
}

/** The first index from `i` (before `end`) that is not JSON whitespace, or `end`. */
function skipSpaceBytes (buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return i
    i++
  }
  return end
}

/** True when buf[at, …) is `"service"` and the line goes on after it. */
function keyAt (buf: Buffer, at: number, end: number): boolean {
  if (at + KEY_BYTES.length >= end) return false
  for (let k = 0; k < KEY_BYTES.length; k++) if (buf[at + k] !== KEY_BYTES[k]) return false
  return true
}

/**
 * The shard of the line buf[start, end) by a quick look at its service, as
 * quickServiceBytes() finds it but with no string made: the service's bytes
 * are hashed in place when the line opens with its "service" key (the usual
 * line). UNSURE when the look is not certain, as for quickServiceBytes.
 */
export function quickShardBytes (buf: Buffer, start: number, end: number, shards: number): number {
  let i = skipSpaceBytes(buf, start, end)
  if (buf[i] === 123) { // {
    i = skipSpaceBytes(buf, i + 1, end)
    if (keyAt(buf, i, end)) {
      i = skipSpaceBytes(buf, i + KEY_BYTES.length, end)
      if (buf[i] === COLON) {
        i = skipSpaceBytes(buf, i + 1, end)
        if (buf[i] !== QUOTE) return UNSURE
        const h = valueHash(buf, i, end)
        if (h >= 0) return h % shards
        if (h === UNSURE) return UNSURE
      }
    }
  }
  // Elsewhere in the line, or beyond ASCII: as quickServiceBytes.
  const service = quickServiceBytes(buf, start, end)
  return service === null ? UNSURE : shardOf(service, shards)
}

/** The text of body[start, end). */
export const lineOf = (body: Body, start: number, end: number): string =>
  typeof body === 'string' ? body.slice(start, end) : body.toString('utf8', start, end)

/** True when body[start, end) is only whitespace. */
function isBlank (body: Body, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = typeof body === 'string' ? body.charCodeAt(i) : body[i]
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

/** Collects the routing of ranges of one body, one range (line or array element) at a time. */
export class RangeRouter {
  private readonly routed: RoutedLines

  constructor (private readonly body: Body, shards: number, private readonly window: Window) {
    this.routed = {
      perShard: Array.from({ length: shards }, () => ({ starts: [], ends: [], indexes: [], chars: 0 })),
      rejected: [],
      rejectedCount: 0,
      entries: 0
    }
  }

  /** Routes the entry in body[start, end), the next by index. */
  add (start: number, end: number): void {
    const { body, routed } = this
    const index = routed.entries++
    const shards = routed.perShard.length
    let shard: number
    if (typeof body === 'string') {
      const service = quickService(body, start, end)
      shard = service === null ? UNSURE : shardOf(service, shards)
    } else {
      shard = quickShardBytes(body, start, end, shards)
    }
    if (shard === UNSURE) {
      const entry = checkLine(lineOf(body, start, end), this.window)
      if (typeof entry === 'string') {
        if (routed.rejectedCount++ < MAX_REJECTED_LISTED) routed.rejected.push({ index, error: entry })
        return
      }
      shard = shardOf(entry.service, shards)
    }
    const share = routed.perShard[shard]!
    share.starts.push(start)
    share.ends.push(end)
    share.indexes.push(index)
    share.chars += end - start
  }

  done (): RoutedLines { return this.routed }
}

/** Routes every non-blank line of an NDJSON body. */
export function routeLines (body: Body, shards: number, window: Window): RoutedLines {
  const router = new RangeRouter(body, shards, window)
  for (let start = 0; start <= body.length;) {
    let end = typeof body === 'string' ? body.indexOf('\n', start) : body.indexOf(10, start)
    if (end < 0) end = body.length
    if (!isBlank(body, start, end)) router.add(start, end)
    start = end + 1
  }
  return router.done()
}

/** One shard's lines as a text (or bytes) of their own, joined by newlines, with offsets into it. */
export interface ShardText {
  text: string | Uint8Array<ArrayBuffer>
  starts: Uint32Array<ArrayBuffer>
  ends: Uint32Array<ArrayBuffer>
}

/** Copies only `share`'s lines out of the body, so a shard is never sent the others' lines. */
export function shardText (body: Body, share: ShardLines): ShardText {
  if (typeof body !== 'string') return shardBytes(body, share)
  const text = body
  const n = share.starts.length
  const parts = new Array<string>(n)
  const starts = new Uint32Array(n)
  const ends = new Uint32Array(n)
  let at = 0
  for (let i = 0; i < n; i++) {
    const from = share.starts[i]!
    const to = share.ends[i]!
    parts[i] = text.slice(from, to)
    starts[i] = at
    at += to - from
    ends[i] = at
    at++
  }
  return { text: parts.join('\n'), starts, ends }
}

/** shardText for bytes: one buffer of its own (so it can be transferred) with the shard's lines. */
function shardBytes (buf: Buffer, share: ShardLines): ShardText {
  const n = share.starts.length
  const starts = new Uint32Array(n)
  const ends = new Uint32Array(n)
  let size = 0
  for (let i = 0; i < n; i++) size += share.ends[i]! - share.starts[i]! + 1
  const out = new Uint8Array(Math.max(0, size - 1))
  let at = 0
  // Lines next to each other in the body (one newline apart) are copied as one run, newline and all.
  let runFrom = 0
  let runTo = -1
  let runAt = 0
  for (let i = 0; i < n; i++) {
    const from = share.starts[i]!
    const to = share.ends[i]!
    if (from !== runTo + 1) {
      if (runTo >= 0) {
        buf.copy(out, runAt, runFrom, runTo)
        out[at - 1] = 10 // the newline after that run (those inside a run come with it)
      }
      runFrom = from
      runAt = at
    }
    runTo = to
    starts[i] = at
    at += to - from
    ends[i] = at
    at++
  }
  if (runTo >= 0) buf.copy(out, runAt, runFrom, runTo)
  return { text: out, starts, ends }
}

/** The text of each line whose entry index is in `wanted`, in one pass. */
export function linesAt (body: Body, routed: RoutedLines, wanted: readonly number[]): Map<number, string> {
  const want = new Set(wanted)
  const out = new Map<number, string>()
  for (const share of routed.perShard) {
    share.indexes.forEach((index, k) => {
      if (want.has(index)) out.set(index, lineOf(body, share.starts[k]!, share.ends[k]!))
    })
  }
  return out
}
