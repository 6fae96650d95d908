import { parseTimestamp } from '../../core/timestamp.js'
import { cutUtf8, fitAttributes, MAX_MESSAGE_BYTES, type LogRecord, type Pairs } from '../record.js'

// One syslog message as a record. RFC 5424:
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID k="v" ...] MSG
// and RFC 3164 (BSD), as rsyslog reads it:
//   <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[pid]: MSG
// with the year and zone the timestamp lacks taken from the receiver's clock
// and time zone, as rsyslog does (a December message read in January is from
// last year, a January one read in December from next year); rsyslog's
// forwarding format (an RFC 3339 time in a 3164 header) is read too.
// A 3164 message without a timestamp is read as rsyslog reads it: no host,
// the tag right after the PRI (Python's SysLogHandler sends `<14>name: msg`).
// service = APP-NAME or the TAG's program name; attributes: hostname,
// severity, facility, procid, msgid and sd.<id>.<param>. A message that is
// neither is kept whole, service `syslog`, at its arrival time (rsyslog keeps
// what it cannot parse too).

/** The service of a message without an app name or tag, and of one that could not be parsed. */
export const RAW_SERVICE = 'syslog'

const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']
/** rsyslog's facility names (syslogfacility-text). */
const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export interface SyslogRecord extends LogRecord {
  /** Whether the message or an attribute had to be cut to fit the record limits. */
  truncated: boolean
}

/** A printable US-ASCII token (RFC 5424's PRINTUSASCII) of 1 to `max` characters. */
const printable = (s: string, max: number): boolean => s.length >= 1 && s.length <= max && /^[\x21-\x7e]+$/.test(s)

class Reader {
  i = 0
  constructor (readonly s: string) {}
  /** The text up to the next space (or the end), consuming that space. */
  token (): string {
    const end = this.s.indexOf(' ', this.i)
    const stop = end === -1 ? this.s.length : end
    const t = this.s.slice(this.i, stop)
    this.i = end === -1 ? stop : end + 1
    return t
  }

  get rest (): string { return this.s.slice(this.i) }
}

/** RFC 5424 structured data, `-` or `[id k="v" ...]...`, as attributes; null when it is malformed. */
function structuredData (r: Reader, attrs: Pairs): boolean {
  const s = r.s
  if (s[r.i] === '-') {
    r.i++
    return true
  }
  if (s[r.i] !== '[') return false
  while (s[r.i] === '[') {
    r.i++
    const idEnd = s.slice(r.i).search(/[ \]]/)
    if (idEnd < 1) return false
    const id = s.slice(r.i, r.i + idEnd)
    if (!printable(id, 32) || /[="]/.test(id)) return false
    r.i += idEnd
    while (s[r.i] === ' ') {
      r.i++
      const eq = s.indexOf('=', r.i)
      if (eq === -1) return false
      const name = s.slice(r.i, eq)
      if (!printable(name, 32) || /[ \]"]/.test(name) || s[eq + 1] !== '"') return false
      let value = ''
      let j = eq + 2
      for (; j < s.length && s[j] !== '"'; j++) {
        // Only \" \\ and \] are escapes; any other backslash is kept (RFC 5424 6.3.3).
        if (s[j] === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\' || s[j + 1] === ']')) j++
        value += s[j]
      }
      if (j >= s.length) return false
      r.i = j + 1
      attrs.push(`sd.${id}.${name}`, value)
    }
    if (s[r.i] !== ']') return false
    r.i++
  }
  return true
}

/** `<PRI>1 ...`; null when the header or structured data does not parse. */
function rfc5424 (r: Reader, arrival: number, attrs: Pairs): { service: string, ts: number, message: string } | null {
  const time = r.token()
  const ts = time === '-' ? arrival : parseTimestamp(time)
  if (Number.isNaN(ts)) return null
  const host = r.token()
  const app = r.token()
  const procid = r.token()
  const msgid = r.token()
  if (!printable(host, 255) || !printable(app, 48) || !printable(procid, 128) || !printable(msgid, 32)) return null
  if (host !== '-') attrs.push('hostname', host)
  if (procid !== '-') attrs.push('procid', procid)
  if (msgid !== '-') attrs.push('msgid', msgid)
  if (!structuredData(r, attrs)) return null
  if (r.i < r.s.length && r.s[r.i] !== ' ') return null
  let message = r.s.slice(r.i + 1)
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1)
  return { service: app === '-' ? RAW_SERVICE : app, ts, message }
}

/** `Mmm dd hh:mm:ss` in the receiver's time zone, the year inferred as rsyslog does; NaN when it is not one. */
export function bsdTime (text: string, now: Date): number {
  const m = /^([A-Z][a-z]{2}) ([ 0-9]\d) (\d\d):(\d\d):(\d\d)$/.exec(text)
  if (m === null) return NaN
  const month = MONTHS.indexOf(m[1]!)
  const day = Number(m[2]!.trim())
  const [h, min, sec] = [Number(m[3]), Number(m[4]), Number(m[5])]
  if (month < 0 || day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) return NaN
  let year = now.getFullYear()
  if (month === 11 && now.getMonth() === 0) year--
  else if (month === 0 && now.getMonth() === 11) year++
  const d = new Date(year, month, day, h, min, Math.min(sec, 59))
  if (d.getDate() !== day) return NaN // Feb 30 and the like
  return d.getTime() * 1000
}

/** The TAG's program name up to `[` or `:`, and its optional `[pid]`; the tag ends at its colon or a space, as rsyslog reads it. */
const TAG = /^([\x21-\x39\x3b-\x5a\x5c\x5e-\x7e]{1,48})(?:\[([\x21-\x5c\x5e-\x7e]{1,128})\])?(?::|(?= )|$) ?/
/** The start of a time that did not parse (`Nov 28 10:00`, `2026-`): such a message is kept whole, not read as a tag. */
const TIME_LIKE = /^(?:[A-Z][a-z]{2} [ 0-9]\d|\d{4}-)/

/**
 * `<PRI>TIMESTAMP [HOST] TAG[pid]: MSG`, or with no timestamp (and then no
 * host, as rsyslog reads it) `<PRI>TAG: MSG` or `<PRI>TAG MSG`: what Python's
 * SysLogHandler sends (`%(name)s: %(message)s`, or its ident). Null when
 * there is neither a timestamp nor a tag followed by a message.
 */
function rfc3164 (r: Reader, arrival: number, now: Date, attrs: Pairs): { service: string, ts: number, message: string } | null {
  const s = r.s
  let ts: number
  if (/^\d{4}-/.test(s.slice(r.i, r.i + 5))) {
    ts = parseTimestamp(r.token())
  } else {
    ts = bsdTime(s.slice(r.i, r.i + 15), now)
    if (Number.isNaN(ts)) return TIME_LIKE.test(r.rest) ? null : untimed(r, arrival, attrs)
    if (s[r.i + 15] !== ' ' && r.i + 15 !== s.length) return null
    r.i = Math.min(r.i + 16, s.length)
  }
  if (Number.isNaN(ts)) return null
  // A hostname is a word of host name characters followed by a space; a word ending in : or holding [ is the tag.
  const word = /^([A-Za-z0-9._%-]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f.]+) /.exec(r.rest)
  if (word !== null) {
    attrs.push('hostname', word[1]!)
    r.i += word[0].length
  }
  const tag = TAG.exec(r.rest)
  let service = RAW_SERVICE
  if (tag !== null) {
    service = tag[1]!
    if (tag[2] !== undefined) attrs.push('procid', tag[2])
    r.i += tag[0].length
  }
  return { service, ts, message: r.rest }
}

/** `<PRI>TAG[pid]: MSG` or `<PRI>TAG MSG` with no timestamp: at its arrival time; null without a tag and a message after it. */
function untimed (r: Reader, arrival: number, attrs: Pairs): { service: string, ts: number, message: string } | null {
  const tag = TAG.exec(r.rest)
  if (tag === null || tag[0].length === r.rest.length) return null
  if (tag[2] !== undefined) attrs.push('procid', tag[2])
  r.i += tag[0].length
  return { service: tag[1]!, ts: arrival, message: r.rest }
}

/**
 * Parses one syslog frame (the text of a datagram or a TCP frame).
 * `arrival` is the receive time in epoch µs; `now` is the receiver's clock for
 * the year and zone of RFC 3164 times (the same instant, as a Date).
 */
export function parseSyslog (frame: string, arrival: number, now: Date = new Date(arrival / 1000)): SyslogRecord {
  let text = frame
  while (text.endsWith('\n')) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1)
  const pri = /^<(\d{1,3})>/.exec(text)
  const value = pri === null ? -1 : Number(pri[1])
  let parsed: { service: string, ts: number, message: string } | null = null
  const attrs: Pairs = []
  if (value >= 0 && value <= 191) {
    const r = new Reader(text)
    r.i = pri![0].length
    if (text.startsWith('1 ', r.i)) {
      r.i += 2
      parsed = rfc5424(r, arrival, attrs)
    } else {
      parsed = rfc3164(r, arrival, now, attrs)
    }
  }
  if (parsed === null) return finish({ service: RAW_SERVICE, ts: arrival, message: text }, [])
  attrs.unshift('severity', SEVERITIES[value % 8]!, 'facility', FACILITIES[value >> 3]!)
  return finish(parsed, attrs)
}

/** Fits message and attributes to the record limits (cutting, not refusing: syslog has no way to say no). */
function finish (p: { service: string, ts: number, message: string }, attrs: Pairs): SyslogRecord {
  const message = cutUtf8(p.message, MAX_MESSAGE_BYTES)
  const { attributes, changed } = fitAttributes(attrs)
  return { service: p.service, ts: p.ts, message, labels: null, attributes, truncated: changed || message.length !== p.message.length }
}
