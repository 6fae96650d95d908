import { BadQueryError, NotFoundError } from '../core/errors.js'
import { parseLogql } from '../logql/parse.js'
import { nowUs } from '../core/timestamp.js'
import type { DeleteApi } from '../shards/delete-requests.js'
import { lokiTime, param, type LokiAnswer, type Raw } from './loki-query-route.js'

// Loki's delete API (the compactor's /loki/api/v1/delete) for one tenant:
// POST asks for the entries of a selector between start and end to be
// deleted (204), GET lists the tenant's requests, DELETE cancels one while it
// is still pending (received, within DELETE_CANCEL_PERIOD). The list is kept by
// shards/delete-requests.ts; the shards stop reading what a processed request covers.

/** A time as Loki's delete API takes it: Unix seconds (with a fraction or not) or RFC 3339. */
function deleteTime (raw: Raw, name: string, fallback: number | null): number {
  const v = param(raw, name)
  if (v === undefined || v === '') {
    if (fallback === null) throw new BadQueryError(`${name} is missing; give it as Unix seconds or RFC 3339`)
    return fallback
  }
  if (/^\d{1,12}(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1e6)
  return lokiTime(raw, name, fallback ?? 0)
}

/** POST /loki/api/v1/delete?query=<selector>&start=<time>&end=<time> */
export async function addDelete (raw: Raw, tenant: string, deletes: DeleteApi): Promise<LokiAnswer> {
  const text = param(raw, 'query')
  if (text === undefined || text.trim() === '') throw new BadQueryError('query is missing; give the stream selector of the entries to delete, such as {service="api"}')
  const q = parseLogql(text)
  if (q.kind !== 'log' || q.selection.lines.length > 0 || q.selection.labels.length > 0 || q.selection.parser !== undefined) {
    throw new BadQueryError('query must be a stream selector alone, such as {service="api"}: line filters and stages are not taken by the delete API here')
  }
  const start = deleteTime(raw, 'start', null)
  const end = deleteTime(raw, 'end', nowUs())
  if (end < start) throw new BadQueryError('end is before start; give a start before the end')
  await deletes.add(tenant, text, q.selection.selector, start, end)
  return { status: 204, body: '' }
}

/** GET /loki/api/v1/delete */
export async function listDeletes (tenant: string, deletes: DeleteApi): Promise<LokiAnswer> {
  return { status: 200, body: JSON.stringify(await deletes.list(tenant)) }
}

/** DELETE /loki/api/v1/delete?request_id=<id> */
export async function cancelDelete (raw: Raw, tenant: string, deletes: DeleteApi): Promise<LokiAnswer> {
  const id = param(raw, 'request_id')
  if (id === undefined || id === '') throw new BadQueryError('request_id is missing; GET /loki/api/v1/delete lists the requests and their ids')
  const result = await deletes.cancel(tenant, id)
  if (result === 'unknown') throw new NotFoundError(`no delete request ${JSON.stringify(id.slice(0, 40))} of this tenant; GET /loki/api/v1/delete lists them`)
  if (result === 'processed') throw new BadQueryError(`delete request ${JSON.stringify(id)} is processed already: it can no longer be cancelled (DELETE_CANCEL_PERIOD has passed)`)
  return { status: 204, body: '' }
}
