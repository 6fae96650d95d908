import { EXAMPLE_TIMESTAMP, formatTimestamp, parseTimestamp } from '../timestamp.js'
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
  if (typeof timestamp !== 'string') return `timestamp must be a string, ${TS_HINT}; got ${describe(timestamp)}`
  const ts = parseTimestamp(timestamp)
  if (Number.isNaN(ts)) return `timestamp ${JSON.stringify(timestamp.slice(0, 64))} is not ${TS_HINT}`
  if (ts < window.oldest) {
    return `timestamp ${timestamp} is older than the retention window; entries before ${formatTimestamp(window.oldest)} are not accepted`
  }
  if (ts > window.newest) {
    return `timestamp ${timestamp} is too far in the future; entries after ${formatTimestamp(window.newest)} are not accepted (check the sender's clock)`
  }

  if (message === undefined) return 'message is missing'
  if (typeof message !== 'string') return `message must be a string; got ${describe(message)}`
  const tooLarge = messageProblem(message)
  if (tooLarge !== null) return tooLarge
  const attrs = checkAttributes(attributes)
  if (typeof attrs === 'string') return attrs
  return { service, ts, message, labels: null, attributes: attrs }
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
