import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonUnescape } from '../../src/core/json-text.js'
import { BLOCK_ENTRIES, type BlockView } from '../../src/store/block.js'
import { CODEC_NAMES, DEFAULT_CODEC, codecByName } from '../../src/store/codec/registry.js'
import { OpenBlock } from '../../src/store/open-block.js'

interface In { ts: number, seq: number, msg: string, attrs: string[] | null }

/** A view's entries as plain values, decoding the escaped bytes. */
function read (v: BlockView): In[] {
  const out: In[] = []
  for (let i = 0; i < v.n; i++) {
    let attrs: string[] | null = null
    if (v.attrEnd !== null) {
      const from = i === 0 ? 0 : v.attrEnd[i - 1]!
      for (let p = from; p < v.attrEnd[i]!; p++) {
        attrs ??= []
        attrs.push(JSON.parse(`"${v.dict[v.attrKey[p]!]!}"`) as string, JSON.parse(`"${v.dict[v.attrVal[p]!]!}"`) as string)
      }
    }
    out.push({ ts: v.ts[i]!, seq: v.seq[i]!, msg: jsonUnescape(v.msg, v.msgStart[i]!, v.msgEnd[i]!), attrs })
  }
  return out
}

const entry = fc.record({
  ts: fc.integer({ min: 0, max: 1e6 }),
  msg: fc.string({ unit: 'grapheme', maxLength: 30 }),
  attrs: fc.option(fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 }).map((ks) => ks.flatMap((k, i) => [k, `v${i % 2}`])), { nil: null })
})

describe('block codecs', () => {
  it.each(CODEC_NAMES)('%s decodes the same bytes with and without the payload size hint, across zlib\'s 16 KiB chunks', (name) => {
    const codec = codecByName(name)!
    for (const length of [300, 16 * 1024, 16 * 1024 + 1, 70_000]) {
      const payload = Buffer.from(Array.from({ length }, (_, i) => (i * 7919) % 251))
      const data = Buffer.from(codec.encode(payload))
      expect(Buffer.compare(codec.decode(data, 0), payload)).toBe(0)
      expect(Buffer.compare(codec.decode(data, length), payload)).toBe(0)
    }
  })
  it.each(CODEC_NAMES)('%s decodes a payload cut between its columns and its messages, joined and (where it can) as its two sides', (name) => {
    const codec = codecByName(name)!
    const payload = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i < 7000 ? i % 7 : 97 + (i * 31) % 26))
    for (const size of [0, payload.length]) {
      const data = Buffer.from(codec.encode(payload, 7000))
      expect(Buffer.compare(codec.decode(data, size), payload)).toBe(0)
      if (codec.decodeSides === undefined) continue
      const [columns, messages] = codec.decodeSides(data, size)
      expect(Buffer.compare(columns, payload.subarray(0, 7000))).toBe(0)
      expect(Buffer.compare(messages, payload.subarray(7000))).toBe(0)
    }
  })
})

describe('blocks', () => {
  it.each(CODEC_NAMES)('give the same sorted entries open and sealed with %s, whatever the order of arrival (fast-check)', (name) => {
    const codec = codecByName(name)!
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 300 }), (items) => {
      const block = new OpenBlock()
      const input: In[] = items.map((e, i) => ({ ...e, seq: i + 1 }))
      for (const e of input) block.add(e.ts, e.seq, e.msg, e.attrs, 0)
      const expected = [...input].sort((a, b) => a.ts - b.ts || a.seq - b.seq)
      expect(read(block.view())).toEqual(expected)
      const sealed = block.seal(codec)
      expect(sealed.n).toBe(input.length)
      expect(sealed.minTs).toBe(expected[0]!.ts)
      expect(sealed.maxTs).toBe(expected[expected.length - 1]!.ts)
      expect(read(sealed.view())).toEqual(expected)
    }), { numRuns: 200 })
  })

  it('keep attribute strings once per block, in a dictionary', () => {
    const block = new OpenBlock()
    for (let i = 0; i < 100; i++) block.add(i, i + 1, 'm', ['region', i % 2 === 0 ? 'eu' : 'us'], 0)
    const v = block.seal(DEFAULT_CODEC).view()
    expect([...v.dict].sort()).toEqual(['eu', 'region', 'us'])
    expect(v.attrKey.length).toBe(100)
  })

  it('fill at BLOCK_ENTRIES entries, and compress repetitive text well', () => {
    const block = new OpenBlock()
    let raw = 0
    for (let i = 0; block.n < BLOCK_ENTRIES; i++) {
      const msg = `GET /api/v1/orders/${i} 200 ${i % 97}ms user=u${i % 13}`
      raw += msg.length
      block.add(1_764_000_000_000_000 + i * 1000, i + 1, msg, null, 0)
    }
    expect(block.full).toBe(true)
    const sealed = block.seal(DEFAULT_CODEC)
    expect(sealed.bytes).toBeLessThan(raw / 4)
  })

  it('an open block\'s view keeps its bytes while the block grows and is sealed, and its buffers serve another block', () => {
    const a = new OpenBlock()
    const first: In[] = []
    for (let i = 0; i < 20; i++) {
      first.push({ ts: i, seq: i + 1, msg: `first ${i} ${'a'.repeat(40)}`, attrs: ['k', `v${i}`] })
      a.add(i, i + 1, first[i]!.msg, first[i]!.attrs, 0)
    }
    const held = a.view()
    // a's buffers grow (the smaller ones go back to the pool), then all go back when it is sealed...
    for (let i = 20; i < 400; i++) a.add(i, i + 1, `more ${i} ${'b'.repeat(200)}`, ['k', 'w'], 0)
    a.seal(DEFAULT_CODEC)
    // ...and b takes them and writes over them.
    const b = new OpenBlock()
    for (let i = 0; i < 400; i++) b.add(i, i + 1, 'z'.repeat(300), ['x', 'y'], 0)
    expect(read(held)).toEqual(first)
  })
})
