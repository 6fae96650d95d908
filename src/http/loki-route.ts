import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { NoStreamsError } from '../core/errors.js'
import { decodeLokiJson, decodeLokiProto, lokiRecords } from '../ingest/formats/loki-push.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../core/timestamp.js'
import { describeError, type HttpError } from './answer.js'
import { bodyEncoding, readBody } from './body.js'
import { unsnappy } from './snappy.js'

// POST /loki/api/v1/push, answered as Loki answers: 204 and no body when all
// is stored; plain text with 400 (unreadable body, or invalid entries while
// the valid ones are stored), 413, 415, 422 (no streams), 429 and 507 with
// Retry-After. X-Scope-OrgID is accepted and ignored.

/** The encoding this route decodes itself; the shared reader handles gzip and deflate. */
const SNAPPY = ['snappy']

interface PlainAnswer { status: number, text: string, headers?: Record<string, string> }

export async function lokiPush (req: IncomingMessage, router: ShardRouter, settings: Settings): Promise<PlainAnswer> {
  const encoding = bodyEncoding(req.headers['content-encoding'], SNAPPY)
  const json = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json'
  let body = await readBody(req, settings.maxBody, SNAPPY)
  // Protobuf is always snappy-compressed (Loki reads it so, with or without the header).
  if (!json || encoding === 'snappy') body = unsnappy(body, settings.maxBody)
  const streams = json ? decodeLokiJson(body) : decodeLokiProto(body)
  if (streams.length === 0) throw new NoStreamsError('the push request has no streams; send at least one stream with its values')

  const now = nowUs()
  const serviceLabels = settings.serviceLabels.split(',')
  const { records, problems, problemCount } = lokiRecords(streams, serviceLabels, now - settings.retention * 1000, now + settings.futureSkew * 1000)
  if (problemCount > 0) router.meter.rejected('loki', 'invalid', problemCount)
  const full = records.length > 0 ? (await router.ingest(records, 'loki')).full.length : 0
  const total = records.length + problemCount
  if (full > 0) {
    return plain(507, `${full} of ${total} entries were refused because the store holds MAX_SERVICES services; ${records.length - full} were stored. Room comes back as old services pass the retention window`, 'LOGAGG_ERR_STORE_FULL', { 'retry-after': '60' })
  }
  if (problemCount > 0) {
    const more = problemCount > problems.length ? `\n(and ${problemCount - problems.length} more)` : ''
    return plain(400, `${problemCount} of ${total} entries were rejected and not stored; the other ${records.length} were stored:\n${problems.join('\n')}${more}`, 'LOGAGG_ERR_INVALID_ENTRY')
  }
  return { status: 204, text: '' }
}

const plain = (status: number, text: string, code: string, headers: Record<string, string> = {}): PlainAnswer =>
  ({ status, text: text + '\n', headers: { 'logagg-error-code': code, ...headers } })

/** Any error thrown while pushing, as Loki's plain-text answer; unexpected ones are logged and become a 500. */
export function lokiError (err: HttpError, settings: Settings, log: Logger): PlainAnswer {
  const e = describeError(err, settings.maxBody, log, { method: 'POST', url: '/loki/api/v1/push' })
  return plain(e.status, e.message, e.code, e.headers)
}

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
