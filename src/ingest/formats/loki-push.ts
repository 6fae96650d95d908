import { MalformedBodyError } from '../../core/errors.js'
import { recordProblem, sortPairs, type LogRecord, type Pairs } from '../record.js'
import { parseLabelString } from './label-string.js'
import protobuf from 'protobufjs'
import { int64, nanosToMicros, type Int64 } from './protos.js'

const { Reader } = protobuf
type WireReader = protobuf.Reader

// Loki's push API, both encodings, decoded into one shape and then into
// records. A body that cannot be read at all throws MalformedBodyError (400,
// nothing stored); entries that fail validation are listed as problems while
// the others are stored, as Loki does.

export interface LokiEntry { ts: number, line: string, metadata: Pairs | null }
export interface LokiStream { labels: Pairs, entries: LokiEntry[] }

/** Loki's own name for a stream without a service label. */
export const UNKNOWN_SERVICE = 'unknown_service'

const malformed = (what: string): Error => new MalformedBodyError(`the Loki push body is not valid: ${what}`)

function stringPairs (value: unknown, what: string): Pairs {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed(`${what} must be an object of string values`)
  const pairs: Pairs = []
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key]
    if (typeof v !== 'string') throw malformed(`${what}.${key} must be a string`)
    pairs.push(key, v)
  }
  return pairs
}

/** `{"streams":[{"stream":{labels},"values":[["<ns>","<line>"(,{metadata})]]}]}` */
export function decodeLokiJson (body: Buffer): LokiStream[] {
  let doc: unknown
  try {
    doc = JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw malformed(`the JSON does not parse (${(err as Error).message})`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw malformed('expected a JSON object {"streams": [...]}')
  const streams = (doc as { streams?: unknown }).streams
  if (streams === undefined || streams === null) return []
  if (!Array.isArray(streams)) throw malformed('streams must be an array')
  return streams.map((s: unknown, i) => {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw malformed(`streams[${i}] must be an object with stream and values`)
    const { stream, values } = s as { stream?: unknown, values?: unknown }
    const labels = stringPairs(stream ?? {}, `streams[${i}].stream`)
    if (!Array.isArray(values)) throw malformed(`streams[${i}].values must be an array of ["<unix ns>", "<line>"] pairs`)
    const entries = values.map((v: unknown, j): LokiEntry => {
      const where = `streams[${i}].values[${j}]`
      if (!Array.isArray(v) || v.length < 2 || v.length > 3) throw malformed(`${where} must be ["<unix ns>", "<line>"] or ["<unix ns>", "<line>", {metadata}]`)
      const [ns, line, meta] = v as unknown[]
      if (typeof ns !== 'string') throw malformed(`${where}[0] must be the timestamp in nanoseconds as a string`)
      if (typeof line !== 'string') throw malformed(`${where}[1] must be the log line as a string`)
      const metadata = meta === undefined ? null : stringPairs(meta, `${where}[2]`)
      return { ts: nanosToMicros(ns), line, metadata: metadata === null || metadata.length === 0 ? null : metadata }
    })
    return { labels, entries }
  })
}

/** A protobuf wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
const LEN = 2
const VARINT = 0

/**
 * logproto.PushRequest, already snappy-decoded, read field by field with
 * protobufjs's Reader, as pbjs's static code reads it, but into LokiStreams
 * straight away: no message object, Timestamp or Long per entry on the way
 * (they were most of what the front thread collected per pushed entry).
 * Fields of another number or wire type are skipped, as unknown fields.
 */
export function decodeLokiProto (body: Buffer): LokiStream[] {
  const r = Reader.create(body)
  return lokiSpans(body).map((span) => {
    r.pos = span.start
    return { labels: span.labels, entries: readEntries(r, span.end, true) }
  })
}

/** One StreamAdapter of a push body: where its bytes are, its labels, how many entries it holds. */
export interface LokiSpan { start: number, end: number, labels: Pairs, entries: number }

/**
 * Every stream of a PushRequest with its labels and entry count, the whole
 * wire format checked down to each entry's fields without reading a line:
 * what the front thread needs to send each stream's bytes to the shard of its
 * service, for the shard to read (readLokiStream) with nothing left that can
 * fail to decode. Throws MalformedBodyError for a body that does not decode.
 */
export function lokiSpans (body: Uint8Array): LokiSpan[] {
  const spans: LokiSpan[] = []
  try {
    const r = Reader.create(body)
    while (r.pos < r.len) {
      const tag = r.uint32()
      if (tag >>> 3 === 1 && (tag & 7) === LEN) {
        const length = r.uint32()
        const start = r.pos
        const end = start + length
        if (end > r.len) throw new RangeError(`a stream runs past the end of the body (${end} > ${r.len})`)
        const labels = streamLabels(r, end)
        r.pos = start
        const entries = readEntries(r, end, false)
        spans.push({ start, end, labels, entries })
      } else {
        r.skipType(tag & 7)
      }
    }
  } catch (err) {
    if (err instanceof MalformedBodyError) throw err
    throw malformed(`the protobuf does not decode as logproto.PushRequest (${(err as Error).message})`)
  }
  return spans
}

/** The StreamAdapter at bytes[start, end), which lokiSpans() checked (a shard reads its streams so). */
export function readLokiStream (bytes: Uint8Array, start: number, end: number): LokiStream {
  const r = Reader.create(bytes)
  r.pos = start
  const labels = streamLabels(r, end)
  r.pos = start
  return { labels, entries: readEntries(r, end, true) }
}

/** A stream's label string, wherever it is among its fields, parsed. */
function streamLabels (r: WireReader, end: number): Pairs {
  let text = ''
  while (r.pos < end) {
    const tag = r.uint32()
    if (tag >>> 3 === 1 && (tag & 7) === LEN) text = r.string()
    else r.skipType(tag & 7)
  }
  if (r.pos !== end) throw new RangeError('a stream\'s fields run past its length')
  const labels = parseLabelString(text)
  if (typeof labels === 'string') throw malformed(labels)
  return labels
}

/** The entries of a stream ending at `end` (read: `keep`), or only checked and counted (a count of nulls). */
function readEntries (r: WireReader, end: number, keep: true): LokiEntry[]
function readEntries (r: WireReader, end: number, keep: false): number
function readEntries (r: WireReader, end: number, keep: boolean): LokiEntry[] | number {
  const entries: LokiEntry[] = []
  let count = 0
  while (r.pos < end) {
    const tag = r.uint32()
    if (tag >>> 3 === 2 && (tag & 7) === LEN) {
      const at = r.uint32() + r.pos
      const entry = readEntry(r, at, keep)
      if (entry !== null) entries.push(entry)
      count++
    } else {
      r.skipType(tag & 7)
    }
  }
  if (r.pos !== end) throw new RangeError('a stream\'s fields run past its length')
  return keep ? entries : count
}

/** An EntryAdapter ending at `end`: Timestamp (seconds, nanos), line, structuredMetadata pairs; null when only checked. */
function readEntry (r: WireReader, end: number, keep: boolean): LokiEntry | null {
  if (end > r.len) throw new RangeError('an entry runs past the end of the body')
  let seconds = 0
  let nanos = 0
  let line = ''
  let metadata: Pairs | null = null
  while (r.pos < end) {
    const tag = r.uint32()
    const field = tag >>> 3
    const type = tag & 7
    if (field === 1 && type === LEN) {
      const stop = r.uint32() + r.pos
      while (r.pos < stop) {
        const t = r.uint32()
        if (t >>> 3 === 1 && (t & 7) === VARINT) seconds = int64(r.int64() as Int64)
        else if (t >>> 3 === 2 && (t & 7) === VARINT) nanos = r.int32()
        else r.skipType(t & 7)
      }
    } else if (field === 2 && type === LEN) {
      if (keep) line = r.string()
      else r.skip(r.uint32())
    } else if (field === 3 && type === LEN) {
      const stop = r.uint32() + r.pos
      let name = ''
      let value = ''
      while (r.pos < stop) {
        const t = r.uint32()
        if (t >>> 3 === 1 && (t & 7) === LEN && keep) name = r.string()
        else if (t >>> 3 === 2 && (t & 7) === LEN && keep) value = r.string()
        else r.skipType(t & 7)
      }
      if (keep) (metadata ??= []).push(name, value)
    } else {
      r.skipType(type)
    }
  }
  if (r.pos !== end) throw new RangeError('an entry\'s fields run past its length')
  return keep ? { ts: seconds * 1e6 + Math.floor(nanos / 1000), line, metadata } : null
}

/** The first of `serviceLabels` present (non-empty) among `labels`, else unknown_service. */
export function serviceOf (labels: Pairs, serviceLabels: readonly string[]): string {
  for (const name of serviceLabels) {
    for (let i = 0; i < labels.length; i += 2) if (labels[i] === name && labels[i + 1] !== '') return labels[i + 1]!
  }
  return UNKNOWN_SERVICE
}

export interface Mapped {
  records: LogRecord[]
  /** What is wrong with the first few entries that failed validation. */
  problems: string[]
  problemCount: number
}

/** A stream's service (SERVICE_LABELS) and its stream labels: every label but one named `service` (that is the service already), sorted. */
export function streamIdentity (labels: Pairs, serviceLabels: readonly string[]): { service: string, labels: Pairs | null } {
  const rest: Pairs = []
  for (let i = 0; i < labels.length; i += 2) if (labels[i] !== 'service') rest.push(labels[i]!, labels[i + 1]!)
  return { service: serviceOf(labels, serviceLabels), labels: rest.length === 0 ? null : sortPairs(rest) }
}

/** An entry of a stream as a record, or why it is refused (problemText() words it for the answer). */
export function entryRecord (e: LokiEntry, identity: { service: string, labels: Pairs | null }, oldest: number, newest: number): LogRecord | string {
  const record: LogRecord = { service: identity.service, ts: e.ts, message: e.line, labels: identity.labels, attributes: e.metadata }
  return recordProblem(record, oldest, newest) ?? record
}

/** A refused entry of the stream `labels`, as the 400 answer lists it. */
export function problemText (e: LokiEntry, labels: Pairs, problem: string): string {
  return `entry for stream ${labelText(labels)} at ${Number.isFinite(e.ts) ? `${e.ts}000 ns` : 'an invalid time'}: ${problem}`
}

/** Streams to records: service from SERVICE_LABELS, the other labels as stream labels. */
export function lokiRecords (streams: readonly LokiStream[], serviceLabels: readonly string[], oldest: number, newest: number, maxListed = 10): Mapped {
  const records: LogRecord[] = []
  const problems: string[] = []
  let problemCount = 0
  for (const s of streams) {
    const identity = streamIdentity(s.labels, serviceLabels)
    for (const e of s.entries) {
      const record = entryRecord(e, identity, oldest, newest)
      if (typeof record !== 'string') records.push(record)
      else if (problemCount++ < maxListed) problems.push(problemText(e, s.labels, record))
    }
  }
  return { records, problems, problemCount }
}

const labelText = (labels: Pairs): string => {
  const parts: string[] = []
  // Cut to 64 characters each, so a refused 10 KB label does not fill the answer.
  const cut = (s: string): string => s.length > 64 ? `${s.slice(0, 64)}…` : s
  for (let i = 0; i < labels.length; i += 2) parts.push(`${cut(labels[i]!)}=${JSON.stringify(cut(labels[i + 1]!))}`)
  return `{${parts.join(', ')}}`
}
