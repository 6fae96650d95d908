import type { IncomingMessage } from 'node:http'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import SnappyJS from 'snappyjs'
import { BodyTooLargeError, MalformedBodyError, UnsupportedMediaTypeError } from '../errors.js'

// Bodies of the push protocols (Loki, OTLP): read raw up to MAX_BODY, then
// decoded by Content-Encoding with MAX_BODY applied to the decoded length,
// so a small bomb is refused without being inflated: zlib stops at
// maxOutputLength, and a snappy block states its length up front.

const gunzip = promisify(zlib.gunzip)
const inflate = promisify(zlib.inflate)

/** Reads the whole body; 413 as soon as it passes `limit` bytes. */
export function readRaw (req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) return Promise.reject(new BodyTooLargeError(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const onData = (chunk: Buffer): void => {
      length += chunk.length
      if (length > limit) {
        done()
        reject(new BodyTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => { done(); resolve(Buffer.concat(chunks, length)) }
    const onError = (err: Error): void => { done(); reject(err) }
    const done = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

/** The Content-Encoding, lower case, '' when absent or identity. */
export function contentEncoding (req: IncomingMessage): string {
  const value = (req.headers['content-encoding'] ?? '').trim().toLowerCase()
  return value === 'identity' ? '' : value
}

/** Refuses an encoding not in `allowed` with a 415 that names it. */
export function checkEncoding (encoding: string, allowed: readonly string[]): void {
  if (!allowed.includes(encoding)) {
    throw new UnsupportedMediaTypeError(`Content-Encoding ${JSON.stringify(encoding)} is not supported; send ${allowed.map((a) => a === '' ? 'none' : a).join(', ')}`)
  }
}

/** Inflates a gzip or deflate body, at most `limit` bytes out. Other encodings come back as they are. */
export async function inflateBody (body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') return body
  try {
    return encoding === 'deflate' ? await inflate(body, { maxOutputLength: limit }) : await gunzip(body, { maxOutputLength: limit })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLargeError(limit)
    throw new MalformedBodyError(`the body is not valid ${encoding} (${(err as Error).message}); compress it with ${encoding} or drop the Content-Encoding header`)
  }
}

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
