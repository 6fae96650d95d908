import { InvalidEntryError, StoreFullError, retryAfter } from '../../core/errors.js'
import { bodyFormat, type BodyFormat } from '../../ingest/body.js'
import type { FieldMap } from '../../ingest/formats/json-doc.js'
import { decodeLogsBody, type LogsBody } from '../../ingest/logs-body.js'
import type { Rejected } from '../../ingest/batch.js'
import type { Outcome } from '../../ingest/decoded.js'
import { json, type Answer, type ErrorParts } from '../answer.js'
import { batchAnswer, SERVICES_FULL } from '../batch-answer.js'
import { requestFields } from '../field-params.js'
import { send } from '../send.js'
import type { IngestProtocol, IngestRequest } from './protocol.js'

// POST /logs: one entry or a batch, in our JSON, NDJSON, a form, or msgpack;
// with _service_field / _time_field / _msg_field (or their headers), documents
// in the shipper's own field names. Answered 201 when all is stored, 400 or
// 507 listing by index what was not; errors are our JSON {error, code}.

export interface LogsForm { format: BodyFormat, fields: FieldMap | null }

const STORED_ONE = json(201, '{"status":"Log entry stored"}')

/** The answer to one entry (201, or the entry's own 400 / 507) or to a batch. */
export function logsAnswer (outcome: Outcome<Rejected>, _form: LogsForm, decoded: LogsBody): Answer {
  if (!decoded.single) return batchAnswer(outcome.total, outcome.invalid, outcome.invalidCount, outcome.full)
  if (outcome.invalidCount > 0) throw new InvalidEntryError(outcome.invalid[0]!.error)
  if (outcome.full.length > 0) throw retryAfter(new StoreFullError(SERVICES_FULL), 60)
  return STORED_ONE
}

export const jsonError = (e: ErrorParts): Answer => json(e.status, JSON.stringify({ error: e.message, code: e.code }), e.headers)

export const LOGS: IngestProtocol<LogsForm, Rejected, LogsBody, Answer> = {
  name: 'logs',
  paths: ['/logs'],
  methods: ['POST'],
  accept: (r: IngestRequest) => ({ format: bodyFormat(r.req.headers['content-type']), fields: requestFields(r.query, r.req.headers) }),
  decode: async (body, form, ctx) => await decodeLogsBody(body, form.format, form.fields, ctx.window, ctx.now, ctx.shards),
  answer: logsAnswer,
  error: jsonError,
  send: (res, answer) => send(res, answer)
}
