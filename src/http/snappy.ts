import SnappyJS from 'snappyjs'
import { BodyTooLargeError, MalformedBodyError } from '../core/errors.js'

// Loki's snappy block format (not the framed one). The body is read by the
// shared reader (body.ts) like any other; this decodes it, refusing a block
// whose header claims more than MAX_BODY before inflating anything.

/** The uncompressed length a snappy block claims (its varint header), or -1 when there is none. */
export function snappyLength (body: Uint8Array): number {
  let result = 0
  for (let i = 0, shift = 1; i < 5 && i < body.length; i++, shift *= 128) {
    const b = body[i]!
    result += (b & 0x7f) * shift
    if (b < 0x80) return result
  }
  return -1
}

/** Decodes a snappy block (not the framed format); 413 when it claims more than `limit` bytes. */
export function unsnappy (body: Buffer, limit: number): Buffer {
  const length = snappyLength(body)
  if (length === -1) throw new MalformedBodyError('the body is not snappy-compressed (no block header); compress it with snappy\'s block format')
  if (length > limit) throw new BodyTooLargeError(limit)
  try {
    const out = SnappyJS.uncompress(body, limit)
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  } catch (err) {
    throw new MalformedBodyError(`the body is not valid snappy (${(err as Error).message}); compress it with snappy's block format`)
  }
}
