import { encode, ExtData } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { jsonValues } from '../../src/ingest/formats/json-values.js'
import { msgpackEvents } from '../../src/ingest/formats/msgpack-events.js'

const decodeMsgpackEvents = (body: Uint8Array): unknown[] => [...msgpackEvents(body)]

const values = (text: string): unknown[] => [...jsonValues(text)].map((v) => v.error !== undefined ? `error: ${v.error}` : v.value)

describe('JSON documents in any shape', () => {
  it('reads one array, NDJSON, pretty-printed values and objects with no separator alike', () => {
    const docs = [{ a: 1 }, { b: 'x}{"' }, { c: [1, { d: 2 }] }]
    expect(values(JSON.stringify(docs))).toEqual(docs)
    expect(values(docs.map((d) => JSON.stringify(d)).join('\n') + '\n')).toEqual(docs)
    expect(values(docs.map((d) => JSON.stringify(d)).join('\r\n'))).toEqual(docs)
    expect(values(docs.map((d) => JSON.stringify(d)).join(''))).toEqual(docs)
    expect(values(JSON.stringify(docs, null, 2))).toEqual(docs)
    expect(values(docs.map((d) => JSON.stringify(d, null, 2)).join('\n'))).toEqual(docs)
    // Arrays stand for their elements wherever they are.
    expect(values('[{"a":1}]\n{"b":2}\n[{"c":3},{"d":4}]')).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }])
  })

  it('lists a value that does not parse in its place and keeps the others', () => {
    expect(values('{"a":1}\n{"b": nope}\n{"c":3}')).toEqual([{ a: 1 }, expect.stringMatching(/^error: not valid JSON/), { c: 3 }])
    expect(values('{"a":1}{"b":"\\"}"}{"c":')).toEqual([{ a: 1 }, { b: '"}' }, expect.stringMatching(/^error/)])
    expect(values('{"a":1} 42 "s" true')).toEqual([{ a: 1 }, 42, 's', true])
    expect(values('  \n\n ')).toEqual([])
  })
})

const eventTime = (s: number, ns: number): ExtData => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setUint32(0, s)
  new DataView(b.buffer).setUint32(4, ns)
  return new ExtData(0, b)
}
const cat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts)

describe('Fluent Bit msgpack events', () => {
  it('reads [time, record] and [[time, metadata], record] streams, EventTime, integer and float seconds', () => {
    const body = cat(
      encode([eventTime(1_800_000_000, 123_456_789), { log: 'one', nested: { k: 'v' } }]),
      encode([[eventTime(1_800_000_001, 0), {}], { log: 'two' }]),
      encode([1_800_000_002, { log: 'three' }]),
      encode([1_800_000_003.5, { log: new Uint8Array(Buffer.from('bin text')) }])
    )
    expect(decodeMsgpackEvents(body)).toEqual([
      { ts: 1_800_000_000_123_456, record: { log: 'one', nested: { k: 'v' } } },
      { ts: 1_800_000_001_000_000, record: { log: 'two' } },
      { ts: 1_800_000_002_000_000, record: { log: 'three' } },
      { ts: 1_800_000_003_500_000, record: { log: 'bin text' } }
    ])
  })

  it('reads an array of events', () => {
    expect(decodeMsgpackEvents(encode([[1_800_000_000, { a: 1 }], [[1_800_000_001, {}], { b: 2 }]])).map((e) => (e as { record: unknown }).record)).toEqual([{ a: 1 }, { b: 2 }])
  })

  it('refuses bodies that are not events, naming what is wrong', () => {
    expect(() => decodeMsgpackEvents(encode({ log: 'x' }))).toThrow(/value 0 is not an event/)
    expect(() => decodeMsgpackEvents(encode(['yesterday', { log: 'x' }]))).toThrow(/no usable time/)
    expect(() => decodeMsgpackEvents(encode([new ExtData(0, new Uint8Array(3)), { log: 'x' }]))).toThrow(/EventTime must be 8 bytes/)
    expect(() => decodeMsgpackEvents(new Uint8Array([0x92, 0xce]))).toThrow(/does not decode/)
    expect(() => decodeMsgpackEvents(Buffer.from('{"log":"json"}'))).toThrow(/msgpack body is not valid/)
    expect(() => decodeMsgpackEvents(new Uint8Array(0))).toThrow(/no events/)
  })
})
