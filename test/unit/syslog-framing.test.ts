import { describe, expect, it } from 'vitest'
import { Framer, type Frame } from '../../src/syslog/framing.js'

const frames = (framer: Framer, ...chunks: string[]): Array<[string, boolean]> =>
  chunks.flatMap((c) => framer.push(Buffer.from(c))).map((f: Frame) => [f.bytes.toString(), f.truncated])

describe('RFC 6587 framing', () => {
  it('reads octet-counted and newline-terminated frames on one stream, in order', () => {
    const msg = '<13>1 - h app - - - hello'
    const f = new Framer(1024)
    expect(frames(f, `${msg.length} ${msg}${msg.length} ${msg}<13>line one\n<13>line two\r\n\n\n9 <13>nine!`)).toEqual([
      [msg, false], [msg, false], ['<13>line one', false], ['<13>line two', false], ['<13>nine!', false]
    ])
    expect(f.pending).toBe(0)
  })

  it('gives the same frames however the bytes are split', () => {
    const stream = '25 <13>1 - h app - - - hello<14>plain line\n3 abc12 not a count\n'
    const whole = frames(new Framer(1024), stream)
    // `12 ` is an octet count too: the next 12 bytes, newline included, are the frame.
    expect(whole).toEqual([['<13>1 - h app - - - hello', false], ['<14>plain line', false], ['abc', false], ['not a count\n', false]])
    for (let size = 1; size < stream.length; size++) {
      const chunks: string[] = []
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size))
      expect(frames(new Framer(1024), ...chunks), `chunks of ${size}`).toEqual(whole)
    }
  })

  it('treats digits not followed by a space as the start of a line', () => {
    expect(frames(new Framer(1024), '2026-11-28 text\n123abc\n')).toEqual([['2026-11-28 text', false], ['123abc', false]])
    // An eleven-digit count is not a count.
    expect(frames(new Framer(1024), '12345678901 x\n')).toEqual([['12345678901 x', false]])
  })

  it('cuts an over-long frame at maxFrame and drops the rest of it, in both framings', () => {
    const f = new Framer(8)
    expect(frames(f, '20 <13>0123456789abcdef', '<13>xx\n')).toEqual([['<13>0123', true], ['<13>xx', false]])
    expect(frames(f, '<13>0123456789', 'abcdef\n<13>ok\n')).toEqual([['<13>0123', true], ['<13>ok', false]])
    expect(frames(f, '9999999999 ', 'a'.repeat(100))).toEqual([])
    expect(f.pending).toBe(8)
  })

  it('hands back the unfinished frame at the end of the stream', () => {
    const f = new Framer(1024)
    expect(frames(f, '<13>no newline')).toEqual([])
    expect(f.pending).toBe(14)
    expect(f.end()).toEqual({ bytes: Buffer.from('<13>no newline'), truncated: false })
    expect(f.end()).toBeNull()
    expect(frames(f, '30 <13>short')).toEqual([])
    expect(f.end()).toEqual({ bytes: Buffer.from('<13>short'), truncated: true })
  })
})

describe('Python SysLogHandler framing', () => {
  it('ends a <PRI> frame at a NUL (append_nul, the default) as at LF; NUL in other text stays (binary garbage)', () => {
    const f = new Framer(1024)
    expect(frames(f, '<14>app: one\u0000<11>app: two\u0000', '<14>app: thr', 'ee\u0000')).toEqual([['<14>app: one', false], ['<11>app: two', false], ['<14>app: three', false]])
    expect(f.pending).toBe(0)
    expect(frames(new Framer(1024), '\u0016\u0003\u0001\u0000\u00a5\n')).toEqual([['\u0016\u0003\u0001\u0000\u00a5', false]])
  })

  it('splits newline-less <PRI> messages (append_nul=False) at the next <PRI>, however the bytes are split', () => {
    const stream = '<14>app: one<12>app: two has <b> and <1234> in it<14>app: three'
    const want = [['<14>app: one', false], ['<12>app: two has <b> and <1234> in it', false]]
    for (let size = 1; size <= stream.length; size++) {
      const f = new Framer(1024)
      const chunks: string[] = []
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size))
      const got = frames(f, ...chunks)
      expect(got, `chunks of ${size}`).toEqual(want)
      expect(f.waiting).toBe(true)
      expect(f.flush()!.bytes.toString()).toMatch(/app: three$/)
      expect(f.waiting).toBe(false)
      expect(f.flush()).toBeNull()
    }
    expect(frames(new Framer(1024), stream)).toEqual(want)
  })

  it('stops looking for <PRI> once the connection has delimited a frame: text after that is the sender\'s', () => {
    const f = new Framer(1024)
    expect(frames(f, '<14>app: first\n<14>app: has <13> inside')).toEqual([['<14>app: first', false]])
    expect(f.waiting).toBe(false)
    expect(frames(f, '\n')).toEqual([['<14>app: has <13> inside', false]])
  })
})
