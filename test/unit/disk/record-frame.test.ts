import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FRAME_HEADER, frameOf, scanRecords } from '../../../src/store/disk/record-frame.js'

const payloads = fc.array(fc.uint8Array({ minLength: 0, maxLength: 200 }), { minLength: 1, maxLength: 20 })
const logOf = (records: Uint8Array[]): Buffer => Buffer.concat(records.map(frameOf))

describe('record frames', () => {
  it('reads back every record of an intact log', () => {
    fc.assert(fc.property(payloads, (records) => {
      const scan = scanRecords(logOf(records))
      expect(scan.problem).toBeNull()
      expect(scan.droppedBytes).toBe(0)
      expect(scan.records.map((r) => [...r])).toEqual(records.map((r) => [...r]))
    }))
  })

  it('keeps every record before a cut at any byte, and reports the bytes after them', () => {
    fc.assert(fc.property(payloads, fc.nat(), (records, at) => {
      const log = logOf(records)
      const cut = at % (log.length + 1)
      const scan = scanRecords(log.subarray(0, cut))
      // The records that end at or before the cut are whole; the rest is dropped.
      let end = 0
      let whole = 0
      for (const r of records) {
        if (end + FRAME_HEADER + r.length > cut) break
        end += FRAME_HEADER + r.length
        whole++
      }
      expect(scan.records.length).toBe(whole)
      expect(scan.validBytes).toBe(end)
      expect(scan.droppedBytes).toBe(cut - end)
      expect(scan.problem === null).toBe(cut === end)
    }))
  })

  it('stops at the record whose bytes were changed, keeping every record before it', () => {
    fc.assert(fc.property(payloads, fc.nat(), fc.integer({ min: 1, max: 255 }), (records, at, flip) => {
      const log = logOf(records)
      const pos = at % log.length
      log[pos] = log[pos]! ^ flip
      // The record holding the changed byte, and where it starts.
      let start = 0
      let hit = 0
      while (start + FRAME_HEADER + records[hit]!.length <= pos) start += FRAME_HEADER + records[hit++]!.length
      const scan = scanRecords(log)
      expect(scan.records.length).toBe(hit)
      expect(scan.validBytes).toBe(start)
      expect(scan.droppedBytes).toBe(log.length - start)
      expect(scan.problem).not.toBeNull()
      expect(scan.records.map((r) => [...r])).toEqual(records.slice(0, hit).map((r) => [...r]))
    }))
  })

  it('refuses an impossible length without reading on', () => {
    const log = logOf([Buffer.from('ok')])
    const bad = Buffer.alloc(FRAME_HEADER)
    bad.writeUInt32LE(0xffffffff, 0)
    const scan = scanRecords(Buffer.concat([log, bad, log]))
    expect(scan.records).toHaveLength(1)
    expect(scan.problem).toMatch(/impossible record length/)
  })
})
