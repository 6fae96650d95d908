import type { ServerResponse } from 'node:http'
import { NoStreamsError } from '../../core/errors.js'
import { mediaType } from '../../core/media-type.js'
import type { DecodedRecords, DecodedStreams } from '../../ingest/decoded.js'
import { decodeLokiJson, lokiRecords, lokiSpans, serviceOf } from '../../ingest/formats/loki-push.js'
import { routeSpans } from '../../ingest/spans.js'
import { bodyEncoding } from '../body.js'
import { unsnappy } from '../snappy.js'
import type { IngestProtocol } from './protocol.js'

// POST /loki/api/v1/push, answered as Loki answers: 204 and no body when all
// is stored; plain text with 400 (unreadable body, or invalid entries while
// the valid ones are stored), 413, 415, 422 (no streams), 429 and 507 with
// Retry-After. X-Scope-OrgID is accepted and ignored.

/** The encoding this protocol decodes itself; the shared reader handles gzip and deflate. */
const SNAPPY = ['snappy']

export interface PlainAnswer { status: number, text: string, headers?: Record<string, string> }

interface LokiForm { json: boolean, snappy: boolean }

const plain = (status: number, text: string, code: string, headers: Record<string, string> = {}): PlainAnswer =>
  ({ status, text: text + '\n', headers: { 'logagg-error-code': code, ...headers } })

export function sendPlain (res: ServerResponse, answer: PlainAnswer): void {
  for (const k in answer.headers) res.setHeader(k, answer.headers[k]!)
  res.statusCode = answer.status
  if (answer.status === 204) {
    res.end()
    return
  }
  res.setHeader('content-type', 'text/plain; charset=utf-8')
  res.end(answer.text)
}

/** Refused entries named one by one in a 400 answer; the rest are counted. */
const LISTED = 10

const noStreams = (): Error => new NoStreamsError('the push request has no streams; send at least one stream with its values')

export const LOKI_PUSH: IngestProtocol<LokiForm, string, DecodedRecords<string> | DecodedStreams, PlainAnswer> = {
  name: 'loki',
  paths: ['/loki/api/v1/push'],
  methods: ['POST'],
  ownEncodings: SNAPPY,
  accept: ({ req }) => ({
    json: mediaType(req.headers['content-type']) === 'application/json',
    snappy: bodyEncoding(req.headers['content-encoding'], SNAPPY) === 'snappy'
  }),
  decode (body, form, { now, window, settings, shards }) {
    // Protobuf is always snappy-compressed (Loki reads it so, with or without the header).
    if (!form.json || form.snappy) body = unsnappy(body, settings.maxBody)
    const serviceLabels = settings.serviceLabels.split(',')
    if (!form.json) {
      // Checked here down to every field, each stream's labels read; the entries are read by the shards.
      const spans = lokiSpans(body)
      if (spans.length === 0) throw noStreams()
      const { perShard, total } = routeSpans(spans.map((span, ordinal) => ({ ...span, service: serviceOf(span.labels, serviceLabels), ordinal })), shards)
      return { kind: 'streams', format: 'loki', total, body, perShard, window, arrival: now, serviceLabels }
    }
    const streams = decodeLokiJson(body)
    if (streams.length === 0) throw noStreams()
    const { records, problems, problemCount } = lokiRecords(streams, serviceLabels, window.oldest, window.newest)
    return { kind: 'records', total: records.length + problemCount, records, indexes: null, invalid: problems, invalidCount: problemCount }
  },
  answer ({ total, full, invalid, invalidCount, stored }) {
    if (full.length > 0) {
      return plain(507, `${full.length} of ${total} entries were refused because the store holds MAX_SERVICES services; ${stored} were stored. Room comes back as old services pass the retention window`, 'LOGAGG_ERR_STORE_FULL', { 'retry-after': '60' })
    }
    if (invalidCount > 0) {
      const listed = invalid.slice(0, LISTED)
      const more = invalidCount > listed.length ? `\n(and ${invalidCount - listed.length} more)` : ''
      return plain(400, `${invalidCount} of ${total} entries were rejected and not stored; the other ${stored} were stored:\n${listed.join('\n')}${more}`, 'LOGAGG_ERR_INVALID_ENTRY')
    }
    return { status: 204, text: '' }
  },
  error: (e) => plain(e.status, e.message, e.code, e.headers),
  send: sendPlain
}
