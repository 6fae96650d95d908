import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseSyslog } from '../../src/ingest/formats/syslog.js'
import { recordProblem, MAX_MESSAGE_BYTES } from '../../src/ingest/record.js'
import { Framer } from '../../src/syslog/framing.js'

// Properties of the syslog parser and the TCP framer over arbitrary input.

const ARRIVAL = Date.UTC(2026, 10, 28, 12) * 1000

/** Text that looks like syslog often enough to reach every branch of the parser. */
const syslogish = fc.tuple(
  fc.constantFrom('', '<', '<13>', '<191>', '<192>', '<0>', '<13>1 ', '<165>1 ', '<34>'),
  fc.constantFrom('', '-', '2026-11-28T11:00:00Z', '2026-11-28T11:00:00.123456+02:00', 'Nov 28 11:00:00', 'Feb 30 11:00:00', 'Nov  5 01:02:03', '2026-13-01T00:00:00Z'),
  fc.array(fc.constantFrom(' ', '-', 'host', 'app', 'tag[12]:', 'x:', '[id@1 k="v"]', '[a b="\\"\\]"]', '[', ']', '"', '=', '\ufeff', 'é', '\n', '\u0000', 'a'.repeat(60)), { maxLength: 12 }),
  fc.string({ maxLength: 40 })
).map(([pri, time, parts, tail]) => `${pri}${time} ${parts.join('')}${tail}`)

describe('parseSyslog on arbitrary text', () => {
  it('never throws, and always gives a record the store accepts', () => {
    fc.assert(fc.property(fc.oneof(syslogish, fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 })), (text) => {
      const r = parseSyslog(text, ARRIVAL)
      expect(recordProblem(r, -Infinity, Infinity)).toBeNull()
      expect(Number.isFinite(r.ts)).toBe(true)
      // The message is part of the text: nothing is made up.
      expect(text).toContain(r.message.replace(/\n+$/, ''))
    }), { numRuns: 2000 })
  })

  it('keeps huge messages within the record limit', () => {
    fc.assert(fc.property(fc.integer({ min: MAX_MESSAGE_BYTES - 10, max: MAX_MESSAGE_BYTES + 5000 }), fc.constantFrom('a', 'é', '€', '😀'), (n, ch) => {
      const r = parseSyslog(`<14>1 - h app - - - ${ch.repeat(Math.ceil(n / Buffer.byteLength(ch)))}`, ARRIVAL)
      expect(Buffer.byteLength(r.message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES)
      expect(recordProblem(r, -Infinity, Infinity)).toBeNull()
    }), { numRuns: 30 })
  })
})

describe('Framer over arbitrary frames and chunkings', () => {
  /** A frame the sender means, and how it is framed. */
  const frame = fc.record({
    octets: fc.boolean(),
    bytes: fc.uint8Array({ maxLength: 80 })
  }).map(({ octets, bytes }) => {
    // A newline-framed frame cannot hold LF, nor start with a digit (that reads as a count), nor a separator, nor end in CR (CR LF is a line end).
    // eslint-disable-next-line no-control-regex -- NUL is one of the separators skipped between frames
    let line = Buffer.from(bytes.filter((b) => b !== 10)).toString('latin1').replace(/^[\s\x00\d]+/, '').replace(/\r+$/, '')
    // A frame that starts with < (a PRI) also ends at NUL, and before the first delimiter a <PRI> inside it starts the next.
    // eslint-disable-next-line no-control-regex -- NUL ends such a frame
    if (line.startsWith('<')) line = `<${line.slice(1).replace(/[\x00<]/g, '')}`.replace(/\r+$/, '')
    return octets && bytes.length > 0
      ? { wire: Buffer.concat([Buffer.from(`${bytes.length} `), bytes]), want: Buffer.from(bytes) }
      : { wire: Buffer.from(`${line}\n`, 'latin1'), want: Buffer.from(line, 'latin1') }
  })

  it('gives back every frame exactly, however the stream is cut into chunks', () => {
    fc.assert(fc.property(fc.array(frame, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }), (frames, cuts) => {
      const wire = Buffer.concat(frames.map((f) => f.wire))
      const framer = new Framer(1024)
      const got: Buffer[] = []
      let at = 0
      for (let k = 0; at < wire.length; k++) {
        const size = cuts[k % cuts.length]!
        for (const f of framer.push(wire.subarray(at, at + size))) got.push(f.bytes)
        at += size
      }
      const want = frames.map((f) => f.want).filter((b) => b.length > 0)
      expect(got.filter((b) => b.length > 0).map((b) => b.toString('hex'))).toEqual(want.map((b) => b.toString('hex')))
      expect(framer.pending).toBe(0)
    }), { numRuns: 1000 })
  })

  it('never holds more than maxFrame bytes of one frame, whatever is sent', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
      const framer = new Framer(64)
      for (const c of chunks) {
        for (const f of framer.push(Buffer.from(c))) expect(f.bytes.length).toBeLessThanOrEqual(64)
        expect(framer.pending).toBeLessThanOrEqual(64)
      }
    }), { numRuns: 1000 })
  })
})
