import { MalformedBodyError } from '../../core/errors.js'
import { recordProblem, sortPairs, type LogRecord, type Pairs } from '../record.js'
import { parseLabelString } from './label-string.js'
import { PushRequest, int64, nanosToMicros, type Int64 } from './protos.js'

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

interface ProtoEntry { timestamp?: { seconds?: Int64, nanos?: number } | null, line?: string, structuredMetadata?: Array<{ name?: string, value?: string }> }
interface ProtoStream { labels?: string, entries?: ProtoEntry[] }

/** logproto.PushRequest, already snappy-decoded. */
export function decodeLokiProto (body: Buffer): LokiStream[] {
  let req: { streams?: ProtoStream[] }
  try {
    req = PushRequest.decode(body) as unknown as { streams?: ProtoStream[] }
  } catch (err) {
    throw malformed(`the protobuf does not decode as logproto.PushRequest (${(err as Error).message})`)
  }
  return (req.streams ?? []).map((s) => {
    const labels = parseLabelString(s.labels ?? '')
    if (typeof labels === 'string') throw malformed(labels)
    const entries = (s.entries ?? []).map((e): LokiEntry => {
      const ts = int64(e.timestamp?.seconds) * 1e6 + Math.floor((e.timestamp?.nanos ?? 0) / 1000)
      const meta = e.structuredMetadata ?? []
      return { ts, line: e.line ?? '', metadata: meta.length === 0 ? null : meta.flatMap((p) => [p.name ?? '', p.value ?? '']) }
    })
    return { labels, entries }
  })
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

/**
 * Streams to records: service from SERVICE_LABELS; every label except one
 * named `service` (that is the record's service already) stays a stream label.
 */
export function lokiRecords (streams: readonly LokiStream[], serviceLabels: readonly string[], oldest: number, newest: number, maxListed = 10): Mapped {
  const records: LogRecord[] = []
  const problems: string[] = []
  let problemCount = 0
  for (const s of streams) {
    const service = serviceOf(s.labels, serviceLabels)
    const rest: Pairs = []
    for (let i = 0; i < s.labels.length; i += 2) if (s.labels[i] !== 'service') rest.push(s.labels[i]!, s.labels[i + 1]!)
    const labels = rest.length === 0 ? null : sortPairs(rest)
    for (const e of s.entries) {
      const record: LogRecord = { service, ts: e.ts, message: e.line, labels, attributes: e.metadata }
      const problem = recordProblem(record, oldest, newest)
      if (problem === null) {
        records.push(record)
      } else if (problemCount++ < maxListed) {
        problems.push(`entry for stream ${labelText(s.labels)} at ${Number.isFinite(e.ts) ? `${e.ts}000 ns` : 'an invalid time'}: ${problem}`)
      }
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
