import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor, type Cursor } from '../../src/shards/cursor.js'
import { seeded } from './random.js'

const b64 = (text: string): string => Buffer.from(text, 'latin1').toString('base64url')

describe('cursor', () => {
  it('round-trips (ts, seq) and the order', () => {
    const cases: Cursor[] = [
      { after: { ts: 0, seq: 0 }, descending: false },
      { after: { ts: 1_764_280_200_123_456, seq: 1 }, descending: true },
      { after: { ts: -86_400_000_000, seq: 42 }, descending: false }, // before 1970
      { after: { ts: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER }, descending: true },
      { after: { ts: -Number.MAX_SAFE_INTEGER, seq: 7 }, descending: false }
    ]
    for (const c of cases) expect(decodeCursor(encodeCursor(c))).toEqual(c)
    const rnd = seeded(5)
    for (let i = 0; i < 1000; i++) {
      const c = { after: { ts: rnd.int(-1e15, 8e15), seq: rnd.int(0, 1e12) }, descending: rnd.int(0, 1) === 1 }
      expect(decodeCursor(encodeCursor(c))).toEqual(c)
    }
  })

  it('is opaque URL-safe text', () => {
    const text = encodeCursor({ after: { ts: 1_764_280_200_123_456, seq: 99 }, descending: true })
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(encodeURIComponent(text)).toBe(text)
    expect(encodeCursor({ after: { ts: 1, seq: 2 }, descending: true }))
      .not.toBe(encodeCursor({ after: { ts: 1, seq: 2 }, descending: false }))
  })

  it('rejects garbage', () => {
    for (const text of ['', 'abc', 'not a cursor', '!!!!', 'djE6YToxOjE=', 'djE6YToxOjE+', 'djE6YToxOjE/', ' djE6YToxOjE', '%%', '\u00e9t\u00e9']) {
      expect(decodeCursor(text), text).toBeNull()
    }
  })

  it('accepts the documented layout, so the tampering cases below test what they claim', () => {
    expect(decodeCursor(b64('v1:a:10:20'))).toEqual({ after: { ts: 10, seq: 20 }, descending: false })
    expect(decodeCursor(b64('v1:d:-10:20'))).toEqual({ after: { ts: -10, seq: 20 }, descending: true })
  })

  it('rejects well-formed base64url whose content was tampered with', () => {
    for (const inner of [
      'v2:a:10:20', 'v1:x:10:20', 'v1:A:10:20', 'v1:a:10', 'v1:a:10:20:30', 'v1:a::20', 'v1:a:10:',
      'v1:a:1.5:20', 'v1:a:10:2.5', 'v1:a:1e5:20', 'v1:a:10:-20', 'v1:a:+10:20', 'v1:a: 10:20', 'v1:a:10:20\n',
      'v1:a:0x10:20', 'v1:a:NaN:20', 'v1:a:Infinity:20',
      'v1:a:123456789012345678:1', // 18 digits
      'v1:a:99999999999999999:1', // 17 digits, above 2^53
      'v1:a:1:99999999999999999'
    ]) {
      expect(decodeCursor(b64(inner)), inner).toBeNull()
    }
  })

  it('never half-reads a cursor changed in one character: it is rejected or read exactly as written', () => {
    const original = { after: { ts: 1_764_280_200_123_456, seq: 12_345 }, descending: false }
    const text = encodeCursor(original)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    let rejected = 0
    for (let i = 0; i < text.length; i++) {
      for (const ch of alphabet) {
        if (ch === text[i]) continue
        const changed = text.slice(0, i) + ch + text.slice(i + 1)
        const got = decodeCursor(changed)
        if (got === null) {
          rejected++
          continue
        }
        // Accepted only if the changed text still spells a whole cursor, and then read as spelled.
        const inner = Buffer.from(changed, 'base64url').toString('latin1')
        const m = /^v1:([ad]):(-?\d+):(\d+)$/.exec(inner)
        expect(m, inner).not.toBeNull()
        expect(got).toEqual({ after: { ts: Number(m![2]), seq: Number(m![3]) }, descending: m![1] === 'd' })
      }
    }
    expect(rejected).toBeGreaterThan(text.length * 40)
  })

  it('rejects overlong text', () => {
    const long = b64('v1:a:' + '0'.repeat(16) + '1:' + '0'.repeat(16) + '1') // digits within the limit
    expect(decodeCursor(long)).toEqual({ after: { ts: 1, seq: 1 }, descending: false })
    expect(decodeCursor(b64('v1:a:' + '0'.repeat(70) + '1:1'))).toBeNull()
    expect(decodeCursor('A'.repeat(101))).toBeNull()
    expect(decodeCursor(encodeCursor({ after: { ts: 1, seq: 1 }, descending: false }) + 'A'.repeat(100))).toBeNull()
  })
})
