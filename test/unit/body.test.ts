import { describe, expect, it } from 'vitest'
import { BadRequestError, UnsupportedMediaTypeError } from '../../src/errors.js'
import { ParseFailure, bodyFormat, parseBody, type BodyFormat, type ParsedBody } from '../../src/ingest/body.js'

type HttpError = Error & { statusCode: number, code: string }

function thrown (fn: () => unknown): HttpError {
  try {
    fn()
  } catch (err) {
    return err as HttpError
  }
  throw new Error('did not throw')
}

const parse = (text: string | Buffer, format: BodyFormat): ParsedBody =>
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

  it('reads a missing or lenient type as JSON, including curl -d\'s default form type', () => {
    expect(bodyFormat(undefined)).toBe('json')
    expect(bodyFormat('')).toBe('json')
    expect(bodyFormat('text/plain')).toBe('json')
    expect(bodyFormat('text/plain; charset=utf-8')).toBe('json')
    expect(bodyFormat('application/x-www-form-urlencoded')).toBe('json')
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
    expect(parse(JSON.stringify(value) + '\n', 'ndjson')).toEqual({ kind: 'batch', items: [value] })
  })

  describe('NDJSON', () => {
    it('reads one value per line, always as a batch', () => {
      const a = { ...entry, message: 'a' }
      const b = { ...entry, message: 'b' }
      expect(parse(`${JSON.stringify(a)}\n${JSON.stringify(b)}\n`, 'ndjson')).toEqual({ kind: 'batch', items: [a, b] })
      expect(parse(JSON.stringify(a), 'ndjson')).toEqual({ kind: 'batch', items: [a] }) // no final newline
    })

    it('ignores blank lines and accepts CRLF line ends', () => {
      const text = '\n{"n":1}\r\n\r\n   \n\t\n{"n":2}\n\n'
      expect(parse(text, 'ndjson')).toEqual({ kind: 'batch', items: [{ n: 1 }, { n: 2 }] })
    })

    it('turns a bad line into a ParseFailure at its index among the entries', () => {
      const text = ['{"n":0}', '', 'not json', '{"n":2}', '   ', '{"n":', '{"n":4}', '[1,2'].join('\n')
      const parsed = parse(text, 'ndjson')
      expect(parsed.kind).toBe('batch')
      const items = (parsed as { items: unknown[] }).items
      expect(items).toHaveLength(6)
      expect(items[0]).toEqual({ n: 0 })
      expect(items[2]).toEqual({ n: 2 })
      expect(items[4]).toEqual({ n: 4 })
      for (const i of [1, 3, 5]) {
        expect(items[i], `item ${i}`).toBeInstanceOf(ParseFailure)
        expect((items[i] as ParseFailure).error).toMatch(/^line is not valid JSON: .+/)
        expect((items[i] as ParseFailure).error.length).toBeLessThanOrEqual('line is not valid JSON: '.length + 200)
      }
    })

    it('keeps valid JSON lines that are not objects for the entry check to reject', () => {
      expect(parse('42\n"x"\nnull\n[]\n', 'ndjson')).toEqual({ kind: 'batch', items: [42, 'x', null, []] })
    })

    it('rejects a body with no entries', () => {
      for (const text of ['\n', '\n\n  \r\n\t\n', ' ']) {
        const err = thrown(() => parse(text, 'ndjson'))
        expect(err, JSON.stringify(text)).toBeInstanceOf(BadRequestError)
        expect(err.message).toBe('request body has no entries; send one JSON object per line')
      }
    })

    it('does not treat a JSON array body as a batch', () => {
      // In NDJSON a one-line array is one value, left for the entry check to reject.
      expect(parse('[{"n":1},{"n":2}]', 'ndjson')).toEqual({ kind: 'batch', items: [[{ n: 1 }, { n: 2 }]] })
    })
  })
})
