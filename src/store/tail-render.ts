import { jsonString } from '../core/json-text.js'
import type { TailFormat } from './shard-messages.js'
import { formatTimestamp } from '../core/timestamp.js'
import type { Pairs } from './block.js'
import type { Stream } from './stream.js'

// How a shard renders one entry for a live tail, in each tail format, whole
// (separators included) so the front writes a delivery's entries back to
// back. Each is one string: the tail hub renders an entry once per format and
// every tail of that format that keeps it holds the same string.

/** The attributes that are not also stream labels, as JSON members (`"k":"v"`, comma-separated). */
function attributeMembers (stream: Stream, attrs: Pairs | null): string {
  if (attrs === null) return ''
  let out = ''
  for (let i = 0; i < attrs.length; i += 2) {
    if (stream.labels.length > 0 && stream.label(attrs[i]!) !== undefined) continue
    out += `${out === '' ? '' : ','}${jsonString(attrs[i]!)}:${jsonString(attrs[i + 1]!)}`
  }
  return out
}

/** Where cursors are spelled before base64url (what encodeCursor makes, without its allocations). */
const cursorScratch = Buffer.alloc(64)

/** An entry in GET /logs's JSON shape: `{"service","timestamp","message","attributes"?}`. */
function entryJson (stream: Stream, ts: number, message: string, attrs: Pairs | null): string {
  const members = attributeMembers(stream, attrs)
  const attributes = stream.labelsJson === '' && members === ''
    ? ''
    : `,"attributes":{${stream.labelsJson}${stream.labelsJson !== '' && members !== '' ? ',' : ''}${members}}`
  return `{"service":${stream.serviceJson},"timestamp":"${formatTimestamp(ts)}","message":${jsonString(message)}${attributes}}`
}

export type TailRender = (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null) => string

export const TAIL_RENDER: Record<TailFormat, TailRender> = {
  /** An SSE event: `id: <cursor>` then `data: {...}`, ending with a blank line. */
  sse: (stream, ts, seq, message, attrs) => {
    const n = cursorScratch.write(`v1:a:${ts}:${seq}`, 'latin1')
    return `id: ${cursorScratch.toString('base64url', 0, n)}\ndata: ${entryJson(stream, ts, message, attrs)}\n\n`
  },
  /** One NDJSON line. */
  ndjson: (stream, ts, _seq, message, attrs) => `${entryJson(stream, ts, message, attrs)}\n`,
  /** One text line, as GET /logs?format=text writes it: newlines in the message as \n. */
  text: (stream, ts, _seq, message) => `${formatTimestamp(ts)} ${stream.service} ${message.replace(/\r/g, '\\r').replace(/\n/g, '\\n')}\n`,
  /** A Loki tail stream with one value: `{"stream":{labels and metadata},"values":[["<ns>","<line>"]]}`. */
  loki: (stream, ts, _seq, message, attrs) => {
    const members = attributeMembers(stream, attrs)
    const labels = `"service":${stream.serviceJson}${stream.labelsJson === '' ? '' : `,${stream.labelsJson}`}${members === '' ? '' : `,${members}`}`
    return `{"stream":{${labels}},"values":[["${ts}000",${jsonString(message)}]]}`
  }
}
