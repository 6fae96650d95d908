import { crc32 } from 'node:zlib'

// How records sit in a write-ahead log segment: each one framed by its length
// and a checksum, so a reader can tell a whole record from a torn or damaged one.
//
//   record = u32 payload length | u32 crc32(payload) | payload      (little-endian)
//
// A crash in the middle of an append leaves a record cut short; a bad disk
// leaves bytes that no longer match their checksum. Either way the reader
// stops at the first record it cannot trust: everything before it is whole.

export const FRAME_HEADER = 8
/** A longer length field can only be damage: no record is anywhere near this big. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024

/**
 * Fills in the header of a frame whose payload was written after FRAME_HEADER
 * reserved bytes (so a record is built in one buffer and written in one call).
 */
export function sealFrame (frame: Buffer): Buffer {
  const payload = frame.subarray(FRAME_HEADER)
  frame.writeUInt32LE(payload.length, 0)
  frame.writeUInt32LE(crc32(payload), 4)
  return frame
}

/** A frame holding `payload` (a copy). */
export function frameOf (payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length)
  frame.set(payload, FRAME_HEADER)
  return sealFrame(frame)
}

export interface ScanResult {
  /** The payloads of the whole records, in order (views of the scanned buffer). */
  records: Buffer[]
  /** Bytes from the start that hold whole records; the rest is damage. */
  validBytes: number
  /** Bytes after validBytes. */
  droppedBytes: number
  /** Why the scan stopped early, or null when it read to the end. */
  problem: string | null
}

/** Reads records from the start of `buf` up to the end or the first torn or damaged one. */
export function scanRecords (buf: Buffer): ScanResult {
  const records: Buffer[] = []
  let pos = 0
  let problem: string | null = null
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER) {
      problem = `a record header cut short at byte ${pos}`
      break
    }
    const len = buf.readUInt32LE(pos)
    if (len > MAX_RECORD_BYTES) {
      problem = `an impossible record length (${len}) at byte ${pos}`
      break
    }
    if (buf.length - pos - FRAME_HEADER < len) {
      problem = `a record cut short at byte ${pos} (${len} bytes announced, ${buf.length - pos - FRAME_HEADER} present)`
      break
    }
    const payload = buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + len)
    if (crc32(payload) !== buf.readUInt32LE(pos + 4)) {
      problem = `a record whose checksum does not match at byte ${pos}`
      break
    }
    records.push(payload)
    pos += FRAME_HEADER + len
  }
  return { records, validBytes: pos, droppedBytes: buf.length - pos, problem }
}
