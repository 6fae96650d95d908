import { isUtf8 } from 'node:buffer'
import { parseSyslog } from '../ingest/formats/syslog.js'
import { MAX_ATTRIBUTES, type LogRecord } from '../ingest/record.js'
import { formatTimestamp } from '../core/timestamp.js'
import type { Frame } from './framing.js'

// One syslog frame (a TCP frame or a UDP datagram) as a record, and the
// counts the listeners keep of what they received, stored, cut and dropped.

export interface SyslogStats {
  /** Frames (TCP) and datagrams (UDP) received. */
  received: number
  stored: number
  /** Frames cut to fit MAX_BODY, the message limit or the attribute limits (still stored). */
  truncated: number
  /** Frames whose own time was outside the accepted window: stored at their arrival time, with reported_time. */
  retimed: number
  /** Times a TCP connection's frames met a full queue and waited (its socket paused) before being stored. */
  queueFullWaits: number
  dropped: {
    /** Binary frames (a NUL byte, or not UTF-8 and no <PRI>). */
    garbage: number
    /** Refused by the store: queue full (UDP, or TCP after retrying), store full, MAX_SERVICES, a shard down. */
    refused: number
    /** Unfinished frames of connections closed at shutdown. */
    unfinished: number
  }
  /** TCP clients cut off: binary garbage, a stall mid-frame, silent for SYSLOG_IDLE_TIMEOUT, or over SYSLOG_MAX_CONNECTIONS (closed at once). */
  disconnected: { garbage: number, stalled: number, idle: number, overLimit: number }
}

export const newStats = (): SyslogStats => ({ received: 0, stored: 0, truncated: 0, retimed: 0, queueFullWaits: 0, dropped: { garbage: 0, refused: 0, unfinished: 0 }, disconnected: { garbage: 0, stalled: 0, idle: 0, overLimit: 0 } })

const LT = 0x3c

/** A frame as a record; 'garbage' when it is binary (a NUL byte, or not UTF-8 without a <PRI>), null when it is blank. */
export function frameRecord (frame: Frame, arrival: number, oldest: number, newest: number, stats: SyslogStats): LogRecord | 'garbage' | null {
  let { bytes } = frame
  // One trailing NUL ends a message (Python's SysLogHandler appends it by default), as rsyslog reads it.
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes = bytes.subarray(0, bytes.length - 1)
  if (bytes.includes(0) || (bytes[0] !== LT && !isUtf8(bytes))) return 'garbage'
  const r = parseSyslog(bytes.toString('utf8'), arrival)
  if (r.attributes === null && r.message.trim() === '') return null
  if (frame.truncated || r.truncated) stats.truncated++
  let attributes = r.attributes
  let ts = r.ts
  if (ts < oldest || ts > newest) {
    // A sender with a wrong clock (or a replayed file) keeps its lines, at the time they came.
    stats.retimed++
    if (attributes === null) attributes = ['reported_time', formatTimestamp(ts)]
    else if (attributes.length < 2 * MAX_ATTRIBUTES) attributes = [...attributes, 'reported_time', formatTimestamp(ts)]
    ts = arrival
  }
  return { service: r.service, ts, message: r.message, labels: null, attributes }
}
