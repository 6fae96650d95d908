import { MAX_REJECTED_LISTED, type Rejected } from '../store/shard-messages.js'
import { json, type Answer } from './answer.js'

// The answer to a batch of entries, the same for every body shape POST /logs takes.

export const SERVICES_FULL = 'the store holds as many services as MAX_SERVICES allows; entries of services it already holds are still taken, and room comes back as old services pass the retention window'

/**
 * The answer to a batch: 201 when everything was stored, 400 when some
 * entries were invalid, 507 when some were refused because the store holds
 * MAX_SERVICES services (both list what was not stored).
 */
export function batchAnswer (total: number, invalid: Rejected[], invalidCount: number, full: number[]): Answer {
  const rejectedCount = invalidCount + full.length
  const stored = total - rejectedCount
  if (rejectedCount === 0) return json(201, `{"stored":${stored}}`)
  if (full.length > 0) {
    const rejected = invalid.concat(full.map((index) => ({ index, error: SERVICES_FULL }))).sort((a, b) => a.index - b.index).slice(0, MAX_REJECTED_LISTED)
    return json(507, JSON.stringify({
      error: `${full.length} of ${total} entries were refused because the store holds MAX_SERVICES services${invalidCount > 0 ? ` and ${invalidCount} were invalid` : ''}; the other ${stored} were stored. Send the entries listed in rejected again later`,
      code: 'LOGAGG_ERR_STORE_FULL',
      stored,
      rejectedCount,
      rejected
    }), { 'retry-after': '60' })
  }
  const rejected = invalid
  return json(400, JSON.stringify({
    error: `${rejectedCount} of ${total} entries were rejected and not stored; the other ${stored} were stored. Fix the entries listed in rejected and send only those again`,
    code: 'LOGAGG_ERR_INVALID_ENTRY',
    stored,
    rejectedCount,
    rejected
  }))
}
