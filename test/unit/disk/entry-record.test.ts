import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EntryRecordWriter, readEntryRecord } from '../../../src/store/disk/entry-record.js'
import { FRAME_HEADER, scanRecords } from '../../../src/store/disk/record-frame.js'

interface E { stream: number, ts: number, seq: number, message: string, attrs: string[] | null }
const STREAMS = [{ service: 'api', labels: [] }, { service: 'web', labels: ['env', 'prod', 'région', 'eu'] }, { service: 'ünïcode ✓', labels: ['k', ''] }]

const entry = fc.record({
  stream: fc.integer({ min: 0, max: STREAMS.length - 1 }),
  ts: fc.integer({ min: -1e15, max: 4e15 }),
  seq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  message: fc.string({ unit: 'grapheme', maxLength: 40 }),
  attrs: fc.option(fc.array(fc.string({ unit: 'grapheme', maxLength: 8 }), { minLength: 1, maxLength: 3 }).map((ks) => ks.flatMap((k) => [k, `v-${k}`])), { nil: null })
})

function roundTrip (entries: E[]): E[] {
  const w = new EntryRecordWriter()
  for (const e of entries) w.entry(STREAMS[e.stream]!, STREAMS[e.stream]!.service, STREAMS[e.stream]!.labels, e.ts, e.seq, e.message, e.attrs)
  expect(w.count).toBe(entries.length)
  const frame = w.frame()
  const scan = scanRecords(frame)
  expect(scan.records).toHaveLength(1)
  const defined: Array<{ service: string, labels: string[] }> = []
  const out: E[] = []
  readEntryRecord(scan.records[0]!, {
    stream: (i, service, labels) => { defined[i] = { service, labels } },
    entry: (i, ts, seq, message, attrs) => {
      const s = defined[i]!
      out.push({ stream: STREAMS.findIndex((x) => x.service === s.service && JSON.stringify(x.labels) === JSON.stringify(s.labels)), ts, seq, message, attrs })
    }
  })
  // Each stream is defined once per record.
  expect(defined.length).toBe(new Set(entries.map((e) => e.stream)).size)
  return out
}

describe('entry records', () => {
  it('read back exactly what was written: streams, times, sequence numbers, text and attributes', () => {
    fc.assert(fc.property(fc.array(entry, { maxLength: 50 }), (entries) => {
      expect(roundTrip(entries)).toEqual(entries)
    }))
  })

  it('throw a RangeError on a payload cut inside an op, never return garbage', () => {
    const w = new EntryRecordWriter()
    w.entry(STREAMS[1]!, 'web', STREAMS[1]!.labels, 5, 6, 'hello world', ['a', 'b'])
    w.entry(STREAMS[1]!, 'web', STREAMS[1]!.labels, 7, 8, 'second', null)
    const payload = w.frame().subarray(FRAME_HEADER)
    const messages = (cut: number): string[] => {
      const out: string[] = []
      readEntryRecord(payload.subarray(0, cut), { stream: () => {}, entry: (_i, _ts, _seq, message) => { out.push(message) } })
      return out
    }
    let whole = 0
    for (let cut = 0; cut < payload.length; cut++) {
      // A cut between two ops reads as a shorter record (the frame's checksum is what catches it); any other cut throws.
      try {
        expect(['hello world', 'second'].slice(0, messages(cut).length)).toEqual(messages(cut))
        whole++
      } catch (err) {
        expect(err, `cut at ${cut}`).toBeInstanceOf(RangeError)
      }
    }
    // After the kind byte, after the stream, after the first entry.
    expect(whole).toBe(3)
  })
})
