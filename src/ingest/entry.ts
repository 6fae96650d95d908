import { EXAMPLE_TIMESTAMP, formatSpan, formatTimestamp, hasZone, isDateUs, nowUs, parseTimestamp, unixToMicros } from '../core/timestamp.js'
import { MAX_MESSAGE_BYTES, MAX_SERVICE_LENGTH, checkAttributes, describe, messageProblem, serviceProblem, type LogRecord } from './record.js'

// The one place an incoming log entry is validated. It returns either a clean
// entry or a sentence that tells the sender what to fix.

export { MAX_MESSAGE_BYTES, MAX_SERVICE_LENGTH }

/** A record of POST /logs: no stream labels besides service. */
export type Entry = LogRecord

/** The accepted timestamp range, epoch microseconds, inclusive. */
export interface Window {
  oldest: number
  newest: number
}

/** How far back (RETENTION) and ahead (FUTURE_SKEW) of now, in ms, an entry's time may be. */
export interface WindowLimits {
  retention: number
  futureSkew: number
}

/** The window entries arriving `now` (epoch µs) are accepted in: the one place it is computed. */
export function acceptanceWindow (limits: WindowLimits, now = nowUs()): Window {
  return { oldest: now - limits.retention * 1000, newest: now + limits.futureSkew * 1000 }
}

const TS_HINT = `an ISO 8601 time such as ${EXAMPLE_TIMESTAMP} (no offset means UTC)`

/** Returns the validated entry, or a string saying what is wrong with it. */
export function checkEntry (value: unknown, window: Window): Entry | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `each entry must be a JSON object with service, timestamp and message; got ${describe(value)}`
  }
  const { service, timestamp, message, attributes } = value as Record<string, unknown>

  if (service === undefined) return 'service is missing'
  if (typeof service !== 'string') return `service must be a string; got ${describe(service)}`
  const problem = serviceProblem(service)
  if (problem !== null) return problem

  if (timestamp === undefined) return `timestamp is missing; send ${TS_HINT}`
  let ts: number
  if (typeof timestamp === 'string') {
    ts = parseTimestamp(timestamp)
    if (Number.isNaN(ts)) return `timestamp ${JSON.stringify(timestamp.slice(0, 64))} is not ${TS_HINT}`
  } else if (typeof timestamp === 'number') {
    ts = unixToMicros(timestamp)
    if (Number.isNaN(ts)) return `timestamp ${timestamp} is not a Unix time; send ${TS_HINT}, or seconds, milliseconds, microseconds or nanoseconds since 1970`
  } else {
    return `timestamp must be a string, ${TS_HINT}, or a Unix time as a number; got ${describe(timestamp)}`
  }
  if (ts < window.oldest || ts > window.newest) return outsideWindow(timestamp, ts, window)

  if (message === undefined) return 'message is missing'
  if (typeof message !== 'string') return `message must be a string; got ${describe(message)}`
  const tooLarge = messageProblem(message)
  if (tooLarge !== null) return tooLarge
  const attrs = checkAttributes(attributes)
  if (typeof attrs === 'string') return attrs
  return { service, ts, message, labels: null, attributes: attrs }
}

const QUARTER_HOUR_US = 900e6

/**
 * The offset a zone-less local time `from` µs away from now most likely had:
 * the distance rounded to a quarter hour (every zone in use is a multiple of
 * one), when it is within the ±14 h zones span; else +02:00 as an example.
 */
function offsetHint (from: number): string {
  const quarters = Math.round(from / QUARTER_HOUR_US)
  if (quarters === 0 || Math.abs(quarters) > 56) return '+02:00'
  const minutes = Math.abs(quarters) * 15
  return `${quarters > 0 ? '+' : '-'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

/** Why a timestamp outside the window is refused; a zone-less one says it was read as UTC and how far from now that is. */
function outsideWindow (timestamp: string | number, ts: number, window: Window): string {
  const old = ts < window.oldest
  if (typeof timestamp === 'string' && !hasZone(timestamp)) {
    // Only on this rare path is the clock read again: Window holds the edges, not the time the request came.
    const from = ts - nowUs()
    return `timestamp ${timestamp} has no zone and was read as UTC: ${formatSpan(from)} ${from > 0 ? 'in the future (more than FUTURE_SKEW)' : 'in the past (older than RETENTION)'}; add Z or an offset such as ${offsetHint(from)}`
  }
  // A number may be past any date (1e308 seconds): it is quoted alone then, never formatted.
  const text = typeof timestamp === 'string' ? timestamp : isDateUs(ts) ? `${timestamp} (${formatTimestamp(ts)})` : `${timestamp}, past any date,`
  if (old) return `timestamp ${text} is older than the retention window; entries before ${formatTimestamp(window.oldest)} are not accepted`
  return `timestamp ${text} is too far in the future; entries after ${formatTimestamp(window.newest)} are not accepted (check the sender's clock)`
}

/** Shortens a JSON.parse error message into something a sender can act on. */
export function describeJsonError (err: unknown): string {
  return (err as Error).message.replace(/^Unexpected token/, 'unexpected token').slice(0, 200)
}

/** Parses and validates one NDJSON line; a string says what is wrong with it. */
export function checkLine (line: string, window: Window): Entry | string {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return `line is not valid JSON: ${describeJsonError(err)}`
  }
  return checkEntry(value, window)
}
