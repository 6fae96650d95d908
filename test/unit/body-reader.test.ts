import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DRAIN_LIMIT, bodyEncoding, hasLargeUnreadBody, readBody } from '../../src/http/body.js'

/** A stand-in request: a stream with headers, fed `chunks` then ended. */
function request (headers: Record<string, string>, chunks: Buffer[], complete = false): IncomingMessage {
  const stream = new PassThrough()
  Object.assign(stream, { headers, complete })
  setImmediate(() => {
    for (const c of chunks) stream.write(c)
    stream.end()
  })
  return stream as unknown as IncomingMessage
}

describe('bodyEncoding', () => {
  it('reads identity, gzip, x-gzip and deflate in any case, and refuses others with 415', () => {
    expect(bodyEncoding(undefined)).toBe('identity')
    expect(bodyEncoding(' GZIP ')).toBe('gzip')
    expect(bodyEncoding('x-gzip')).toBe('gzip')
    expect(bodyEncoding('Deflate')).toBe('deflate')
    expect(() => bodyEncoding('br')).toThrow(expect.objectContaining({ statusCode: 415, code: 'LOGAGG_ERR_UNSUPPORTED_MEDIA_TYPE' }))
  })
})

describe('hasLargeUnreadBody', () => {
  const req = (headers: Record<string, string>, complete = false): IncomingMessage => ({ headers, complete }) as unknown as IncomingMessage
  it(`is true for an unread body over ${DRAIN_LIMIT} bytes or of unknown length`, () => {
    expect(hasLargeUnreadBody(req({ 'content-length': String(DRAIN_LIMIT + 1) }))).toBe(true)
    expect(hasLargeUnreadBody(req({ 'transfer-encoding': 'chunked' }))).toBe(true)
    expect(hasLargeUnreadBody(req({ 'content-length': 'junk' }))).toBe(true)
    expect(hasLargeUnreadBody(req({ 'content-length': String(DRAIN_LIMIT) }))).toBe(false)
    expect(hasLargeUnreadBody(req({}))).toBe(false)
    expect(hasLargeUnreadBody(req({ 'content-length': String(10 * DRAIN_LIMIT) }, true))).toBe(false)
  })
})

describe('readBody', () => {
  it('returns the body, inflated when it is gzip', async () => {
    expect((await readBody(request({}, [Buffer.from('ab'), Buffer.from('cd')]), 10)).toString()).toBe('abcd')
    expect((await readBody(request({ 'content-encoding': 'gzip' }, [gzipSync('hello')]), 10)).toString()).toBe('hello')
  })

  it('applies the limit to the declared length, the raw length and the inflated length', async () => {
    const tooLarge = expect.objectContaining({ statusCode: 413, code: 'LOGAGG_ERR_BODY_TOO_LARGE' })
    await expect(readBody(request({ 'content-length': '11' }, []), 10)).rejects.toEqual(tooLarge)
    await expect(readBody(request({}, [Buffer.alloc(11)]), 10)).rejects.toEqual(tooLarge)
    await expect(readBody(request({ 'content-encoding': 'gzip' }, [gzipSync(Buffer.alloc(1000))]), 100)).rejects.toEqual(tooLarge)
  })

  it('maps zlib errors to LOGAGG_ERR_BAD_ENCODING', async () => {
    const bad = expect.objectContaining({ statusCode: 400, code: 'LOGAGG_ERR_BAD_ENCODING', message: expect.stringMatching(/not valid gzip\/deflate/) })
    await expect(readBody(request({ 'content-encoding': 'gzip' }, [Buffer.from('plain')]), 100)).rejects.toEqual(bad)
    const zipped = gzipSync('hello world')
    await expect(readBody(request({ 'content-encoding': 'gzip' }, [zipped.subarray(0, zipped.length - 6)]), 100)).rejects.toEqual(bad)
    await expect(readBody(request({ 'content-encoding': 'deflate' }, [Buffer.from('plain')]), 100)).rejects.toEqual(bad)
  })
})
