import { bodyFormat } from '../../ingest/body.js'
import { DEFAULT_FIELDS } from '../../ingest/formats/json-doc.js'
import { requestFields } from '../field-params.js'
import { LOGS } from './logs.js'

// POST /insert/jsonline (VictoriaLogs' JSON lines): POST /logs's documents,
// read with the default field names (json-doc.ts: message, msg, _msg, …;
// @timestamp, time, …) when the request names none.

export const JSONLINE: typeof LOGS = {
  ...LOGS,
  name: 'jsonline',
  paths: ['/insert/jsonline'],
  accept: (r) => ({ format: bodyFormat(r.req.headers['content-type']), fields: requestFields(r.query, r.req.headers) ?? DEFAULT_FIELDS })
}
