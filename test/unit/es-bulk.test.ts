import { describe, expect, it } from 'vitest'
import { readBulk } from '../../src/ingest/formats/es-bulk.js'
import { DEFAULT_FIELDS, docRecord, timeValue, type DocContext } from '../../src/ingest/formats/json-doc.js'
import { unixToMicros } from '../../src/core/timestamp.js'

const NOW = 1_800_000_000_000_000
const ctx: DocContext = { fields: DEFAULT_FIELDS, fallbackService: null, fallbackTime: NOW, oldest: NOW - 3600e6, newest: NOW + 600e6 }
const body = (...lines: unknown[]): Buffer => Buffer.from(lines.map((l) => typeof l === 'string' ? l : JSON.stringify(l)).join('\n') + '\n')
const iso = (us: number): string => new Date(us / 1000).toISOString()
const parseBulk = async (b: Buffer): Promise<Awaited<ReturnType<typeof readBulk>>['items']> => (await readBulk(b, ctx)).items

describe('bulk body', () => {
  it('pairs action and document lines, keeping _index, _id and order; blank lines and CRLF are fine', async () => {
    const items = await parseBulk(Buffer.from('{"index":{"_index":"a","_id":"x"}}\r\n{"message":"one"}\r\n\n{"create":{}}\n{"message":"two"}'))
    expect(items).toEqual([
      { action: 'index', index: 'a', id: 'x', doc: { message: 'one' }, error: null },
      { action: 'create', index: null, id: null, doc: { message: 'two' }, error: null }
    ])
  })

  it('answers delete and update per item, and a document that is not JSON per item, without losing the pairing', async () => {
    const items = await parseBulk(body({ delete: { _index: 'a', _id: '1' } }, { update: { _id: '2' } }, { doc: {} }, { create: {} }, '{"message": nope', { create: {} }, { message: 'ok' }))
    expect(items.map((i) => [i.action, i.error?.type ?? null])).toEqual([
      ['delete', 'illegal_argument_exception'],
      ['update', 'illegal_argument_exception'],
      ['create', 'document_parsing_exception'],
      ['create', null]
    ])
    expect(items[3]!.doc).toEqual({ message: 'ok' })
  })

  it('refuses the whole request when an action line cannot be read', async () => {
    const cases: Array<[Buffer, RegExp]> = [
      [body('{"create":'), /Malformed action\/metadata line \[1\]/],
      [body({ create: {} }, { message: 'a' }, [1]), /line \[3\], expected an object with one key/],
      [body({ create: {}, index: {} }), /expected an object with one key/],
      [body({ upsert: {} }), /but found \[upsert\]/],
      [body({ create: 1 }), /must be an object/],
      [body({ create: {} }), /has no document line/],
      [Buffer.from('\n\n'), /no requests added/],
      [Buffer.from([0x7b, 0xff, 0x7d]), /not valid UTF-8/]
    ]
    for (const [b, message] of cases) await expect(parseBulk(b), b.toString()).rejects.toThrow(message)
  })
})

describe('documents to records', () => {
  it('takes message, time and service from the default fields; the rest become attributes, nested ones dotted', () => {
    const ts = NOW - 5_000_123
    const r = docRecord({ '@timestamp': iso(ts - 123) + '', message: 'hello', service: { name: 'api', version: '1.2' }, host: { name: 'h1' }, n: 3, ok: true, tags: ['a', 'b'] }, ctx)
    expect(r).toEqual({ service: 'api', ts: ts - 123 - ((ts - 123) % 1000), message: 'hello', labels: null, attributes: ['service.version', '1.2', 'host.name', 'h1', 'n', '3', 'ok', 'true', 'tags', '["a","b"]'] })
  })

  it('uses the first field present among the candidates, the fallback service, and the fallback time', () => {
    expect(docRecord({ msg: 'm', log: 'l', app: 'x', programname: 'y' }, ctx)).toMatchObject({ service: 'x', message: 'm', ts: NOW, attributes: ['log', 'l', 'programname', 'y'] })
    expect(docRecord({ log: 'l' }, { ...ctx, fallbackService: 'idx' })).toMatchObject({ service: 'idx', message: 'l' })
    expect(docRecord({ _msg: 'l' }, ctx)).toMatchObject({ service: 'unknown_service' })
    // A message given as an object is its JSON, and its parts are not attributes as well.
    expect(docRecord({ message: { text: 'hi', code: 7 }, 'message.x': 'y', other: 1 }, ctx)).toMatchObject({ message: '{"text":"hi","code":7}', attributes: ['other', '1'] })
    const fields = { service: ['host'], time: ['when'], message: ['text'] }
    expect(docRecord({ host: 'h', when: (NOW - 1e6) / 1e6, text: 't', message: 'other' }, { ...ctx, fields })).toEqual({ service: 'h', ts: NOW - 1e6, message: 't', labels: null, attributes: ['message', 'other'] })
  })

  it('reads times as RFC 3339 or Unix seconds, milliseconds, microseconds, nanoseconds, numbers or numeric strings', () => {
    const s = 1_800_000_000
    expect(timeValue('2027-01-15T08:00:00.123456+01:00')).toBe(Date.UTC(2027, 0, 15, 7) * 1000 + 123456)
    expect(timeValue(s + 0.25)).toBe(s * 1e6 + 250_000)
    expect(timeValue(String(s))).toBe(s * 1e6)
    expect(timeValue(s * 1000 + 7)).toBe(s * 1e6 + 7000)
    expect(timeValue(s * 1e6 + 7)).toBe(s * 1e6 + 7)
    expect(timeValue(`${s}123456789`)).toBe(s * 1e6 + 123456)
    expect(unixToMicros(-1)).toBeNaN()
    expect(timeValue('yesterday')).toBeNaN()
    expect(timeValue(true)).toBeNaN()
  })

  it('says what is wrong: not an object, no message, bad time, outside the window, a bad service', () => {
    expect(docRecord([1], ctx)).toMatch(/must be a JSON object; got an array/)
    expect(docRecord({ text: 'x' }, ctx)).toMatch(/no message field: none of message, msg, log, _msg/)
    expect(docRecord({ message: 'x', time: 'soon' }, ctx)).toMatch(/time field "time" is "soon"/)
    expect(docRecord({ message: 'x', time: (NOW - 7200e6) / 1e3 }, ctx)).toMatch(/older than the retention window/)
    expect(docRecord({ message: 'x', service: 'a\u001b[31m' }, ctx)).toMatch(/control character/)
  })

  it('fits other people\'s fields to the attribute limits instead of refusing the document, and says so', () => {
    const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, 'v']))
    const r = docRecord({ message: 'x', '': 'empty key', long: 'é'.repeat(5000), ...many }, ctx)
    if (typeof r === 'string') throw new Error(r)
    expect(r.attributes!.length).toBe(128)
    expect(r.attributes!.slice(0, 4)).toEqual(['long', 'é'.repeat(4096), 'k0', 'v'])
    expect(r.attributes!.slice(-4)).toEqual(['k61', 'v', '_truncated', 'attributes'])
    expect(docRecord({ message: 'x', a: '1' }, ctx)).toMatchObject({ attributes: ['a', '1'] })
  })

  it('maps bulk items with the action _index as the fallback service, one error slot per item', async () => {
    const { records, recordItems, errors } = await readBulk(body({ create: { _index: 'nginx' } }, { message: 'a' }, { delete: {} }, { index: {} }, { message: 'b', app: 'web' }, { create: {} }, { nomessage: 1 }), { ...ctx, fallbackService: 'path' })
    expect(records.map((r) => [r.service, r.message])).toEqual([['nginx', 'a'], ['web', 'b']])
    expect(recordItems).toEqual([0, 2])
    expect(errors.map((e) => e?.type ?? null)).toEqual([null, 'illegal_argument_exception', null, 'document_parsing_exception'])
  })

  it('gives the event loop a turn every slice of items', async () => {
    const lines = body(...Array.from({ length: 10 }, (_, i) => [{ create: {} }, { message: `m${i}` }]).flat())
    const turned = async (slice: number): Promise<boolean> => {
      let ran = false
      setImmediate(() => { ran = true })
      const { records } = await readBulk(lines, ctx, slice)
      expect(records.map((r) => r.message)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`))
      return ran
    }
    expect(await turned(3)).toBe(true)
    expect(await turned(1000)).toBe(false)
  })
})
