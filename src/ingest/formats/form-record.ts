import { checkEntry, type Entry, type Window } from '../entry.js'

// One log entry as an HTML form (application/x-www-form-urlencoded): what
// Python's logging.handlers.HTTPHandler POSTs, the LogRecord's __dict__ with
// every value as str(). Its fields map to the entry's: `name` (the logger) →
// service, `msg` → message (sent unformatted: the format arguments travel in
// `args`, kept as an attribute; a `message` field, which a Formatter adds,
// wins), `created` (float epoch seconds) → timestamp, `levelname` → `level`.
// The entry's own names (service, timestamp, message) work too and win, so
// `curl -d 'service=api&message=hi&timestamp=…'` is an entry. The record's
// other fields become attributes, except the ones that only restate another
// (levelno, msecs, filename, relativeCreated, exc_info) and Python's `None`.

/** Record fields that restate another one, or say nothing; not kept as attributes. */
const SKIPPED = new Set(['service', 'name', 'message', 'msg', 'timestamp', 'created', 'levelname', 'level', 'levelno', 'msecs', 'filename', 'relativeCreated', 'exc_info'])
/** Python's str() of nothing, of no format arguments. */
const EMPTY = new Set(['None', '()', ''])
const NUMBER = /^\d+(\.\d+)?$/

/** The form body as a validated entry, or what is wrong with it. */
export function formEntry (text: string, window: Window): Entry | string {
  const form = new URLSearchParams(text)
  const service = form.get('service') ?? form.get('name')
  if (service === null) return 'form body has no service field (nor Python logging\'s name); send service, timestamp and message fields, or a JSON body'
  const message = form.get('message') ?? form.get('msg')
  if (message === null) return 'form body has no message field (nor Python logging\'s msg); send service, timestamp and message fields, or a JSON body'
  const time = form.get('timestamp') ?? form.get('created')
  const attributes: Record<string, string> = {}
  const level = form.get('level') ?? form.get('levelname')
  if (level !== null) attributes.level = level
  for (const [key, value] of form) {
    if (!SKIPPED.has(key) && !EMPTY.has(value) && !(key in attributes)) attributes[key] = value
  }
  // A Unix time comes as text in a form: read it as the number it spells (seconds, ms, µs or ns by size).
  const timestamp = time === null ? undefined : NUMBER.test(time) ? Number(time) : time
  return checkEntry({ service, timestamp, message, attributes }, window)
}
