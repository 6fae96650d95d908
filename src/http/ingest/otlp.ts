import type { IncomingMessage, ServerResponse } from 'node:http'
import { UnsupportedMediaTypeError } from '../../core/errors.js'
import { mediaType } from '../../core/media-type.js'
import type { DecodedRecords, DecodedStreams } from '../../ingest/decoded.js'
import { decodeOtlpJson, otlpRecords, otlpSpans } from '../../ingest/formats/otlp-logs.js'
import { routeSpans } from '../../ingest/spans.js'
import { ExportLogsServiceResponse, RpcStatus } from '../../ingest/formats/protos.js'
import type { IngestProtocol } from './protocol.js'

// POST /v1/logs (OTLP/HTTP), answered as the OTLP spec says, in the request's
// encoding: 200 with an ExportLogsServiceResponse (with partialSuccess when
// some records were refused), or a google.rpc.Status with 400, 413, 415,
// 429 or 503 (with Retry-After when retrying later may work).

type Encoding = 'protobuf' | 'json'

const PROTOBUF = 'application/x-protobuf'
const JSON_TYPE = 'application/json'

interface OtlpAnswer { status: number, encoding: Encoding, body: Record<string, unknown>, headers?: Record<string, string> }

/** The request's encoding, from Content-Type; 415 for any other. */
function otlpEncoding (req: IncomingMessage): Encoding {
  const type = mediaType(req.headers['content-type'])
  if (type === PROTOBUF) return 'protobuf'
  if (type === JSON_TYPE) return 'json'
  throw new UnsupportedMediaTypeError(`Content-Type ${JSON.stringify(type)} is not supported on /v1/logs; send ${PROTOBUF} or ${JSON_TYPE}`)
}

/** gRPC status codes used in google.rpc.Status. */
const GRPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 }

function sendOtlp (res: ServerResponse, answer: OtlpAnswer): void {
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

export const OTLP: IngestProtocol<Encoding, string, DecodedRecords<string> | DecodedStreams, OtlpAnswer> = {
  name: 'otlp',
  paths: ['/v1/logs'],
  methods: ['POST'],
  accept: ({ req }) => otlpEncoding(req),
  decode (body, encoding, { now, window, settings, shards }) {
    if (encoding === 'protobuf') {
      // Checked here down to every field, each resource's service read; the log records are decoded by the shards.
      const { perShard, total } = routeSpans(otlpSpans(body), shards)
      return { kind: 'streams', format: 'otlp', total, body, perShard, window, arrival: now, serviceLabels: settings.serviceLabels.split(',') }
    }
    const { records, problems, problemCount } = otlpRecords(decodeOtlpJson(body), now, window.oldest, window.newest)
    return { kind: 'records', total: records.length + problemCount, records, indexes: null, invalid: problems, invalidCount: problemCount }
  },
  answer ({ full, invalid, invalidCount }, encoding) {
    const rejected = invalidCount + full.length
    if (rejected === 0) return { status: 200, encoding, body: {} }
    const reasons = full.length > 0 ? [`${full.length} refused because the store holds MAX_SERVICES services; send them again later`, ...invalid] : invalid
    const more = invalidCount > invalid.length ? `; and ${invalidCount - invalid.length} more` : ''
    return {
      status: 200,
      encoding,
      body: { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: `${rejected} log records were rejected: ${reasons.join('; ')}${more}` } }
    }
  },
  /** A full store is a 503 (OTLP clients retry 503, not 507); the answer is in the request's encoding, JSON when it has none we take. */
  error ({ status: given, code, message, headers }, req) {
    let encoding: Encoding = 'json'
    try { encoding = otlpEncoding(req) } catch {}
    const status = given === 507 ? 503 : given
    const grpc = status === 429 ? GRPC.RESOURCE_EXHAUSTED : status === 503 ? GRPC.UNAVAILABLE : status >= 500 ? GRPC.INTERNAL : GRPC.INVALID_ARGUMENT
    return { status, encoding, body: { code: grpc, message: `${message} (${code})` }, headers }
  },
  send: sendOtlp
}
