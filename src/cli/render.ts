import pc from 'picocolors'
import { fnv1a } from '../core/hash.js'

// How one entry looks on stdout. Plain: the server's own text line
// (`<timestamp> <service> <message>`, newlines as \n), for pipes, grep and
// awk. Pretty, for a terminal: the timestamp dim, the service padded to the
// widest seen so far (up to a cap) and coloured by a stable hash of its name,
// level words highlighted, attributes dim after the message, continuation
// lines of a multi-line message indented under it, and control characters
// shown as escapes so a stored line cannot drive the terminal.

export type Colors = ReturnType<typeof pc.createColors>
type Formatter = Colors['red']

/** An entry as GET /logs and the tails write it. */
export interface Entry {
  service: string
  timestamp: string
  message: string
  attributes?: Record<string, string>
}

/**
 * The line GET /logs?format=text writes for `e`, without its newline, with
 * every other control character escaped too (the server's text layout
 * escapes only \r and \n): a pipe often ends in a terminal (`| less -R`,
 * `| cat`), and an ESC from a stored line must not reach it as one.
 */
export function plainLine (e: Entry): string {
  return `${e.timestamp} ${oneLine(e.service)} ${oneLine(e.message)}`
}

/** Colours for services: never red or yellow, which mark errors and warnings. */
const SERVICE_COLORS = ['cyan', 'green', 'blue', 'magenta', 'cyanBright', 'greenBright', 'blueBright', 'magentaBright'] as const

export function serviceColor (service: string, colors: Colors): Formatter {
  // FNV-1a, as shards are chosen: the same service gets the same colour in every run.
  return colors[SERVICE_COLORS[fnv1a(service) % SERVICE_COLORS.length]!]
}

// C0 controls but tab and newline, DEL and C1: an ESC in a stored message must not reach the terminal as one.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g

/** `text` with control characters written as escapes (`\x1b`, `\r`); tabs and newlines stay. */
export function visible (text: string): string {
  return text.replace(CONTROL, (c) => c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** `text` as one line: control characters escaped as `visible` does, and newlines as `\n`. */
export function oneLine (text: string): string {
  return visible(text).replace(/\n/g, '\\n')
}

const ERROR_WORDS = /\b(?:fatal|panic|error|err|crit|critical|emerg|alert)\b/gi
const WARN_WORDS = /\b(?:warn|warning)\b/gi

export function highlightLevels (text: string, colors: Colors): string {
  return text
    .replace(ERROR_WORDS, (w) => colors.bold(colors.red(w)))
    .replace(WARN_WORDS, (w) => colors.yellow(w))
}

/** Service names are padded up to this width; a longer one is written whole and does not widen the column. */
export const MAX_SERVICE_WIDTH = 24

export class PrettyPrinter {
  private width = 0

  constructor (private readonly colors: Colors, private readonly maxWidth = MAX_SERVICE_WIDTH) {}

  /** The terminal lines for `e`, without the last newline. */
  format (e: Entry): string {
    const c = this.colors
    const service = visible(e.service)
    if (service.length > this.width) this.width = Math.min(service.length, this.maxWidth)
    const indent = ' '.repeat(e.timestamp.length + 1 + Math.max(this.width, service.length) + 1)
    const message = visible(e.message).split('\n').map((line, i) => (i === 0 ? '' : indent) + highlightLevels(line, c)).join('\n')
    const attributes = e.attributes === undefined
      ? ''
      : ' ' + c.dim(Object.entries(e.attributes).map(([k, v]) => `${visible(k)}=${visible(v)}`).join(' '))
    return `${c.dim(e.timestamp)} ${serviceColor(e.service, c)(service.padEnd(this.width))} ${message}${attributes}`
  }
}
