import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { UnsupportedMediaTypeError } from '../core/errors.js'
import { decodeOtlpJson, decodeOtlpProto, otlpRecords } from '../ingest/formats/otlp-logs.js'
import { ExportLogsServiceResponse, RpcStatus } from '../ingest/formats/protos.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../core/timestamp.js'
import { describeError, type HttpError } from './answer.js'
import { readBody } from './body.js'

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
  const body = await readBody(req, settings.maxBody)
  const request = encoding === 'protobuf' ? decodeOtlpProto(body) : decodeOtlpJson(body)
  const now = nowUs()
  const { records, problems, problemCount } = otlpRecords(request, now, now - settings.retention * 1000, now + settings.futureSkew * 1000)
  if (problemCount > 0) router.meter.rejected('otlp', 'invalid', problemCount)
  const full = records.length > 0 ? (await router.ingest(records, 'otlp')).full.length : 0
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
  const { status: given, code, message, headers } = describeError(err, settings.maxBody, log, { method: 'POST', url: '/v1/logs' })
  // OTLP clients retry 503 but not 507.
  const status = given === 507 ? 503 : given
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
