import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { BodyTooLargeError, UnsupportedMediaTypeError } from '../errors.js'
import { decodeOtlpJson, decodeOtlpProto, otlpRecords } from '../ingest/formats/otlp-logs.js'
import { ExportLogsServiceResponse, RpcStatus } from '../ingest/formats/protos.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../timestamp.js'
import type { HttpError } from './answer.js'
import { checkEncoding, contentEncoding, inflateBody, readRaw } from './encoded-body.js'

// POST /v1/logs (OTLP/HTTP), answered as the OTLP spec says, in the request's
// encoding: 200 with an ExportLogsServiceResponse (with partialSuccess when
// some records were refused), or a google.rpc.Status with 400, 413, 415,
// 429 or 503 (with Retry-After when retrying later may work).

type Encoding = 'protobuf' | 'json'

const PROTOBUF = 'application/x-protobuf'
const JSON_TYPE = 'application/json'

interface OtlpAnswer { status: number, encoding: Encoding, body: Record<string, unknown>, headers?: Record<string, string> }

/** The request's encoding, from Content-Type; 415 for any other. */
export function otlpEncoding (req: IncomingMessage): Encoding {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === PROTOBUF) return 'protobuf'
  if (type === JSON_TYPE) return 'json'
  throw new UnsupportedMediaTypeError(`Content-Type ${JSON.stringify(type)} is not supported on /v1/logs; send ${PROTOBUF} or ${JSON_TYPE}`)
}

export async function otlpExport (req: IncomingMessage, encoding: Encoding, router: ShardRouter, settings: Settings): Promise<OtlpAnswer> {
  const contentEnc = contentEncoding(req)
  checkEncoding(contentEnc, ['', 'gzip', 'x-gzip'])
  const body = await inflateBody(await readRaw(req, settings.maxBody), contentEnc, settings.maxBody)
  const request = encoding === 'protobuf' ? decodeOtlpProto(body) : decodeOtlpJson(body)
  const now = nowUs()
  const { records, problems, problemCount } = otlpRecords(request, now, now - settings.retention * 1000, now + settings.futureSkew * 1000)
  const full = records.length > 0 ? (await router.ingest(records)).full.length : 0
  const rejected = problemCount + full
  if (rejected === 0) return { status: 200, encoding, body: {} }
  const reasons = full > 0 ? [`${full} refused because the store holds MAX_SERVICES services; send them again later`, ...problems] : problems
  const more = problemCount > problems.length ? `; and ${problemCount - problems.length} more` : ''
  return {
    status: 200,
    encoding,
    body: { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: `${rejected} log records were rejected: ${reasons.join('; ')}${more}` } }
  }
}

/** gRPC status codes used in google.rpc.Status. */
const GRPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 }

/** An error as the OTLP spec answers it; a full store is a 503 (retryable), unexpected errors a logged 500. */
export function otlpError (err: HttpError, encoding: Encoding, settings: Settings, log: Logger): OtlpAnswer {
  let status = err.statusCode ?? err.status ?? 500
  let code = err.code ?? 'LOGAGG_ERR_BAD_REQUEST'
  let message = err.message
  const headers: Record<string, string> = {}
  if (status === 413) {
    const tooLarge = new BodyTooLargeError(settings.maxBody)
    code = tooLarge.code
    message = tooLarge.message
    headers.connection = 'close'
  } else if (status === 507) {
    status = 503
  } else if (status >= 500 && !code.startsWith('LOGAGG_')) {
    log.error({ err }, 'unexpected error in OTLP export')
    status = 500
    code = 'LOGAGG_ERR_INTERNAL'
    message = 'internal error; the server log has the details'
  }
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter)
  headers['logagg-error-code'] = code
  const grpc = status === 429 ? GRPC.RESOURCE_EXHAUSTED : status === 503 ? GRPC.UNAVAILABLE : status >= 500 ? GRPC.INTERNAL : GRPC.INVALID_ARGUMENT
  return { status, encoding, body: { code: grpc, message: `${message} (${code})` }, headers }
}

export function sendOtlp (res: ServerResponse, answer: OtlpAnswer): void {
  for (const k in answer.headers) res.setHeader(k, answer.headers[k]!)
  res.statusCode = answer.status
  if (answer.encoding === 'json') {
    res.setHeader('content-type', JSON_TYPE)
    res.end(JSON.stringify(answer.body))
    return
  }
  const type = answer.status === 200 ? ExportLogsServiceResponse : RpcStatus
  res.setHeader('content-type', PROTOBUF)
  res.end(type.encode(type.fromObject(answer.body)).finish())
}
