import { setImmediate as nextTurn } from 'node:timers/promises'
import { BadRequestError } from '../core/errors.js'

// A large JSON array body is not JSON.parse'd on the front thread in one go
// (16 MB took about 0.3 s, during which nothing else was answered). Instead
// this scanner finds where each element starts and ends, knowing only
// strings, escapes and bracket depth, a slice of the text at a time with a
// turn of the event loop between slices; the elements are then routed to the
// shards like NDJSON lines, and the shards parse them.

/** JSON array bodies larger than this many bytes are scanned rather than parsed on the front. */
export const SCAN_ABOVE = 256 * 1024

/** Characters scanned between two turns of the event loop. */
export const SCAN_SLICE = 512 * 1024

const QUOTE = 34
const BACKSLASH = 92
const COMMA = 44
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9

const malformed = (what: string, at: number): Error =>
  new BadRequestError(`request body is not valid JSON (${what} at position ${at}); send a JSON object or an array of objects`)

/** Scans `text`, a JSON array, calling `onElement(start, end)` for each element; throws 400 when it is not one. */
export class ArrayScanner {
  private i = 0
  private readonly closers: number[] = []
  private inString = false
  private escaped = false
  private start = -1
  /** One past the last non-whitespace character of the element being read. */
  private last = -1
  private count = 0
  private closed = false

  constructor (private readonly text: string, private readonly onElement: (start: number, end: number) => void) {
    let i = 0
    while (i < text.length && isSpace(text.charCodeAt(i))) i++
    if (text.charCodeAt(i) !== OPEN_BRACKET) throw malformed('expected [', i)
    this.i = i + 1
  }

  /** Scans up to `budget` characters; true once the whole text is scanned. */
  step (budget: number): boolean {
    const { text, closers } = this
    const stop = Math.min(text.length, this.i + budget)
    let i = this.i
    for (; i < stop && !this.closed; i++) {
      const c = text.charCodeAt(i)
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (c === BACKSLASH) this.escaped = true
        else if (c === QUOTE) this.inString = false
        this.last = i + 1
        continue
      }
      if (isSpace(c)) continue
      if (closers.length === 0 && (c === COMMA || c === CLOSE_BRACKET)) {
        if (this.start < 0) {
          if (c === CLOSE_BRACKET && this.count === 0) { this.closed = true; continue }
          throw malformed(c === COMMA ? 'unexpected ,' : 'unexpected ]', i)
        }
        this.onElement(this.start, this.last)
        this.count++
        this.start = -1
        if (c === CLOSE_BRACKET) this.closed = true
        continue
      }
      if (this.start < 0) this.start = i
      this.last = i + 1
      if (c === QUOTE) this.inString = true
      else if (c === OPEN_BRACE) closers.push(CLOSE_BRACE)
      else if (c === OPEN_BRACKET) closers.push(CLOSE_BRACKET)
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (closers.pop() !== c) throw malformed(`unexpected ${String.fromCharCode(c)}`, i)
      }
    }
    this.i = i
    if (this.closed) {
      while (i < text.length && isSpace(text.charCodeAt(i))) i++
      if (i < text.length) throw malformed('unexpected text after the array', i)
      return true
    }
    if (i >= text.length) throw malformed(this.inString ? 'unterminated string' : 'unterminated array', text.length)
    return false
  }

  /** Elements found so far. */
  get elements (): number { return this.count }
}

/** Scans the whole array, a slice at a time with a turn of the event loop between slices; resolves to the element count. */
export async function scanArray (text: string, onElement: (start: number, end: number) => void, slice = SCAN_SLICE): Promise<number> {
  const scanner = new ArrayScanner(text, onElement)
  while (!scanner.step(slice)) await nextTurn()
  return scanner.elements
}

/** True when the first byte that is not JSON whitespace opens an array. */
export function startsArray (body: Buffer): boolean {
  for (const c of body) {
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return c === 91
  }
  return false
}
