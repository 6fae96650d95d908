import { describe, expect, it } from 'vitest'
import { BadRequestError, UnsupportedMediaTypeError } from '../../src/core/errors.js'
import { bodyFormat, formIsJson, parseBody, type BodyFormat, type ParsedBody } from '../../src/ingest/body.js'

type HttpError = Error & { statusCode: number, code: string }

function thrown (fn: () => unknown): HttpError {
  try {
    fn()
  } catch (err) {
    return err as HttpError
  }
  throw new Error('did not throw')
}

const parse = (text: string | Buffer, format: Exclude<BodyFormat, 'form'>): ParsedBody =>
  parseBody(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, format)

describe('bodyFormat', () => {
  it('reads JSON types, with parameters and in any case', () => {
    for (const type of [
      'application/json', 'application/json; charset=utf-8', 'Application/JSON', ' application/json ;charset=UTF-8',
      'application/vnd.api+json', 'application/merge-patch+json; charset=utf-8'
    ]) {
      expect(bodyFormat(type), type).toBe('json')
    }
  })

  it('reads a missing or lenient type as JSON', () => {
    expect(bodyFormat(undefined)).toBe('json')
    expect(bodyFormat('')).toBe('json')
    expect(bodyFormat('text/plain')).toBe('json')
    expect(bodyFormat('text/plain; charset=utf-8')).toBe('json')
  })

  it('reads a form, which is JSON when it starts like JSON (curl -d\'s default type)', () => {
    expect(bodyFormat('application/x-www-form-urlencoded')).toBe('form')
    expect(bodyFormat('application/x-www-form-urlencoded; charset=utf-8')).toBe('form')
    expect(formIsJson(Buffer.from(' \n{"service":"a"}'))).toBe(true)
    expect(formIsJson(Buffer.from('[{}]'))).toBe(true)
    expect(formIsJson(Buffer.from('name=app&msg=hello'))).toBe(false)
    expect(formIsJson(Buffer.from(''))).toBe(false)
  })

  it('reads msgpack (Fluent Bit\'s http output)', () => {
    expect(bodyFormat('application/msgpack')).toBe('msgpack')
    expect(bodyFormat('application/x-msgpack; charset=binary')).toBe('msgpack')
  })

  it('reads every NDJSON spelling', () => {
    for (const type of [
      'application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines',
      'application/jsonlines', 'application/x-ndjson; charset=utf-8', 'APPLICATION/X-NDJSON'
    ]) {
      expect(bodyFormat(type), type).toBe('ndjson')
    }
  })

  it('answers 415 for anything else, naming the type and the accepted ones', () => {
    for (const type of ['text/html', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png', 'text/csv', 'application/jsonx', 'json']) {
      const err = thrown(() => bodyFormat(type))
      expect(err, type).toBeInstanceOf(UnsupportedMediaTypeError)
      expect(err.statusCode).toBe(415)
      expect(err.code).toBe('LOGAGG_ERR_UNSUPPORTED_MEDIA_TYPE')
      expect(err.message).toContain(`content type ${type.split(';')[0]!.trim()} is not supported`)
      expect(err.message).toContain('application/json')
      expect(err.message).toContain('application/x-ndjson')
    }
  })
})

describe('parseBody', () => {
  const entry = { service: 'api', timestamp: '2026-03-10T10:00:00Z', message: 'hi' }

  it('reads one JSON object as a single entry', () => {
    expect(parse(JSON.stringify(entry), 'json')).toEqual({ kind: 'single', value: entry })
  })

  it('reads a JSON array as a batch, items untouched', () => {
    const items = [entry, 42, null, 'x', [1]]
    expect(parse(JSON.stringify(items), 'json')).toEqual({ kind: 'batch', items })
  })

  it('rejects an empty body', () => {
    for (const format of ['json', 'ndjson'] as const) {
      const err = thrown(() => parse(Buffer.alloc(0), format))
      expect(err).toBeInstanceOf(BadRequestError)
      expect(err.statusCode).toBe(400)
      expect(err.message).toBe('request body is empty; send a JSON object with service, timestamp and message')
    }
  })

  it('rejects an empty JSON array', () => {
    for (const text of ['[]', ' [ ] \n']) {
      const err = thrown(() => parse(text, 'json'))
      expect(err).toBeInstanceOf(BadRequestError)
      expect(err.message).toBe('request body is an empty array; send at least one entry')
    }
  })

  it('rejects JSON that is not an object or an array', () => {
    for (const text of ['null', '42', '"text"', 'true']) {
      const err = thrown(() => parse(text, 'json'))
      expect(err, text).toBeInstanceOf(BadRequestError)
      expect(err.message).toBe('request body must be a JSON object with service, timestamp and message, or an array of such objects')
    }
  })

  it('rejects text that is not JSON, saying so', () => {
    for (const text of ['{', 'service=api&message=hi', '{"a":1}{"b":2}', '   ', "{'a':1}"]) {
      const err = thrown(() => parse(text, 'json'))
      expect(err, text).toBeInstanceOf(BadRequestError)
      expect(err.message).toMatch(/^request body is not valid JSON \(.+\); send a JSON object or an array of objects$/)
    }
    // The parser's detail is cut to 200 characters.
    const err = thrown(() => parse('{"a":' + 'x'.repeat(5000), 'json'))
    expect(err.message.length).toBeLessThan(200 + 120)
  })

  it('rejects invalid UTF-8, in either format', () => {
    const bad = [
      Buffer.from([0x7b, 0xff, 0x7d]), // a byte that never occurs in UTF-8
      Buffer.from('["\xc3"]', 'latin1'), // a truncated two-byte sequence
      Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), // an encoded UTF-16 surrogate
      Buffer.from([0x22, 0xc0, 0xaf, 0x22]) // an overlong encoding of '/'
    ]
    for (const body of bad) {
      for (const format of ['json', 'ndjson'] as const) {
        const err = thrown(() => parseBody(body, format))
        expect(err).toBeInstanceOf(BadRequestError)
        expect(err.message).toBe('request body is not valid UTF-8')
      }
    }
  })

  it('keeps multi-byte UTF-8 text intact', () => {
    const value = { ...entry, message: 'grüße € 😀 \u2028' }
    expect(parse(JSON.stringify(value), 'json')).toEqual({ kind: 'single', value })
    expect(parse(JSON.stringify(value) + '\n', 'ndjson')).toEqual({ kind: 'lines', bytes: Buffer.from(JSON.stringify(value) + '\n') })
  })

  it('passes NDJSON on as bytes, once they are known to be UTF-8', () => {
    const text = '{"n":1}\n\n{"n":2}\n'
    expect(parse(text, 'ndjson')).toEqual({ kind: 'lines', bytes: Buffer.from(text) })
  })
})
