import { formatTimestamp } from '../timestamp.js'

// Renders query results straight into UTF-8 bytes, on the shard: one
// `{"service":…,"timestamp":…,"message":…}` object per entry, joined by ','.
// The front thread then only copies byte ranges into the HTTP answer.

/** Characters that JSON.stringify would escape: quote, backslash, controls, and surrogates (lone ones get escaped). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** A message as a JSON string literal; the common case skips JSON.stringify. */
export function jsonString (s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`
}

/**
 * Scratch space shared by every writer of this thread (one query runs at a
 * time), so a query allocates one buffer of the exact size instead of a
 * series of growing ones.
 */
let scratch = Buffer.allocUnsafeSlow(256 * 1024)

export class EntryWriter {
  private buf = scratch
  private offset = 0
  private readonly ends: number[] = []

  /** Appends one entry; `serviceJson` is the service name already as a JSON string literal. */
  add (serviceJson: string, ts: number, message: string): void {
    const text = `{"service":${serviceJson},"timestamp":"${formatTimestamp(ts)}","message":${jsonString(message)}}`
    // A UTF-16 code unit takes at most 3 bytes in UTF-8; one more for the comma.
    const room = text.length * 3 + 1
    if (this.offset + room > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.offset + room))
      this.buf.copy(bigger, 0, 0, this.offset)
      this.buf = scratch = bigger
    }
    if (this.ends.length > 0) this.buf[this.offset++] = 44 // ','
    this.offset += this.buf.write(text, this.offset)
    this.ends.push(this.offset)
  }

  /** A copy of the bytes written, and where each entry ends. */
  finish (): { body: Uint8Array<ArrayBuffer>, ends: Uint32Array<ArrayBuffer> } {
    const body = new Uint8Array(this.offset)
    body.set(this.buf.subarray(0, this.offset))
    return { body, ends: Uint32Array.from(this.ends) }
  }
}
