import { describe, expect, it } from 'vitest'
import { EntryWriter, jsonString } from '../../src/store/entry-writer.js'

const T0 = Date.parse('2026-03-10T10:00:00Z') * 1000
const ODD = [
  'plain text', 'quote " and backslash \\', 'new\nline\r\ttab', '\u0000\u0001\u001f control', '</script><!--', 'ünïcødé 日本語 😀',
  '\u2028\u2029 separators', 'lone \ud800 surrogate', 'lone \udfff low', '{"logs":[]}', '', ' ', 'x'.repeat(70_000), '日'.repeat(100_000)
]

/** Entries read back from the writer's bytes, one slice per `ends` entry. */
function readBack (w: EntryWriter): unknown[] {
  const { body, ends } = w.finish()
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length)
  const out = Array.from(ends, (end, i) => JSON.parse(buf.subarray(i === 0 ? 0 : ends[i - 1]! + 1, end).toString('utf8')) as unknown)
  // The whole body is the same entries joined by commas.
  expect(JSON.parse(`[${buf.toString('utf8')}]`)).toEqual(out)
  return out
}

describe('jsonString', () => {
  it('equals JSON.stringify for every kind of text', () => {
    for (const s of ODD) expect(jsonString(s)).toBe(JSON.stringify(s))
    for (let c = 0; c < 0x10000; c += 7) {
      const s = `a${String.fromCharCode(c)}b`
      expect(jsonString(s), `U+${c.toString(16)}`).toBe(JSON.stringify(s))
    }
  })
})

describe('EntryWriter', () => {
  it('renders each entry as a JSON object in UTF-8, growing past its scratch buffer', () => {
    const w = new EntryWriter()
    ODD.forEach((message, i) => w.add(JSON.stringify(`svc ${message.slice(0, 10)}`), T0 + i * 1_000_001, message))
    const entries = readBack(w)
    expect(entries).toEqual(ODD.map((message, i) => ({
      service: `svc ${message.slice(0, 10)}`,
      timestamp: new Date((T0 + i * 1_000_001 - ((T0 + i * 1_000_001) % 1000)) / 1000).toISOString().replace('Z', `${String((T0 + i * 1_000_001) % 1000).padStart(3, '0')}Z`),
      message
    })))
  })

  it('writes nothing for no entries', () => {
    const { body, ends } = new EntryWriter().finish()
    expect(body.length).toBe(0)
    expect(ends.length).toBe(0)
  })
})
