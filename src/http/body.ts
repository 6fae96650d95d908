import type { IncomingMessage } from 'node:http'
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib'
import { BadEncodingError, BadRequestError, BodyTooLargeError, UnsupportedMediaTypeError } from '../core/errors.js'

// The one body reader, used by every route that takes a body (in the spirit of
// fastify's rawBody): checks Content-Length against the limit before reading,
// inflates gzip and deflate, applies MAX_BODY to the decoded length as it
// grows (a small compressed upload that inflates past the limit is refused
// while it is still being sent), and maps zlib's errors to a LOGAGG_ERR code.
// A route may also take encodings it decodes itself (Loki's snappy): their
// bytes come back as they were sent, still under MAX_BODY.

/** A refused request whose unread body may be larger than this is answered with Connection: close. */
export const DRAIN_LIMIT = 64 * 1024

/** 'identity', 'gzip', 'deflate', or one of the encodings a route decodes itself. */
type Encoding = string

/** The body's Content-Encoding, or 415 for one we do not read (nor is in `own`, the route's own). */
export function bodyEncoding (header: string | undefined, own: readonly string[] = []): Encoding {
  const value = (header ?? 'identity').trim().toLowerCase()
  if (value === 'identity' || value === '') return 'identity'
  if (value === 'gzip' || value === 'x-gzip') return 'gzip'
  if (value === 'deflate') return 'deflate'
  if (own.includes(value)) return value
  throw new UnsupportedMediaTypeError(`content encoding ${JSON.stringify(value.slice(0, 64))} is not supported; send the body as is, or with ${[...own, 'gzip', 'deflate'].join(', ')}`)
}

/** Throws 413 when the declared Content-Length is over the limit (an encoded body counts too). */
export function checkDeclaredLength (req: IncomingMessage, maxBody: number): void {
  if (Number(req.headers['content-length']) > maxBody) throw new BodyTooLargeError(maxBody)
}

/** True when refusing this request would otherwise mean reading a large or unknown-length body. */
export function hasLargeUnreadBody (req: IncomingMessage): boolean {
  if (req.complete) return false
  const length = req.headers['content-length']
  if (length === undefined) return req.headers['transfer-encoding'] !== undefined
  return !(Number(length) <= DRAIN_LIMIT)
}

function zlibError (err: NodeJS.ErrnoException, encoding: Encoding): Error {
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
    return new BadEncodingError(`the request body is not valid gzip/deflate data (${encoding}: ${err.message}); compress it again, or send it uncompressed without Content-Encoding`)
  }
  return err
}

/**
 * Reads the whole body, gzip and deflate decoded, or rejects with a coded
 * error (413, 415, 400). Encodings in `own` are left for the caller to decode.
 */
export function readBody (req: IncomingMessage, maxBody: number, own: readonly string[] = []): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let encoding: Encoding
    try {
      encoding = bodyEncoding(req.headers['content-encoding'], own)
      checkDeclaredLength(req, maxBody)
    } catch (err) {
      reject(err)
      return
    }
    const inflater: Gunzip | Inflate | null = encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : null
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      if (inflater !== null) {
        req.unpipe(inflater)
        inflater.destroy()
      }
      reject(err)
    }
    const decoded = inflater ?? req
    decoded.on('data', (chunk: Buffer) => {
      if (settled) return
      size += chunk.length
      if (size > maxBody) {
        fail(new BodyTooLargeError(maxBody))
        return
      }
      chunks.push(chunk)
    })
    decoded.on('end', () => {
      if (settled) return
      settled = true
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    })
    if (inflater !== null) {
      inflater.on('error', (err) => fail(zlibError(err, encoding)))
      req.pipe(inflater)
    }
    req.on('error', (err) => fail(err))
    req.on('aborted', () => fail(new BadRequestError('the client closed the connection while sending the body')))
  })
}
