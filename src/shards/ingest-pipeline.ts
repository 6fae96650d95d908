import { MAX_REJECTED_LISTED } from '../ingest/batch.js'
import type { Decoded, DecodedLines, DecodedRecords, DecodedStreams, Outcome } from '../ingest/decoded.js'
import { checkLine } from '../ingest/entry.js'
import { entryLimitProblem } from '../ingest/entry-limits.js'
import { InvalidEntryError } from '../core/errors.js'
import { linesAt } from '../ingest/ndjson.js'
import type { LogRecord } from '../ingest/record.js'
import type { Protocol } from './meter.js'
import type { ShardRouter } from './router.js'
import { FAKE_TENANT } from '../tenants/tenant-id.js'

// The one way entries get from a decoded request to the shards, whatever the
// protocol: what a decoder made of a body (ingest/decoded.ts: records it
// checked, or NDJSON lines routed for the shards to parse) goes in; what
// happened to each entry of the request comes out, for the protocol to answer
// in its own shape. Refusals are counted here and by the router, once.
// Every entry of one call is for one tenant (the front resolved it:
// tenants/resolve.ts); the shards store it under that tenant's names.

/** Stores what was decoded; settles once every shard involved has stored its part (refusals reject, as router.ingest). */
export async function storeDecoded<P> (router: ShardRouter, protocol: Protocol, decoded: Decoded<P>, tenant = FAKE_TENANT): Promise<Outcome<P>> {
  if (decoded.kind === 'lines') return await storeLines(router, protocol, decoded, tenant) as Outcome<unknown> as Outcome<P>
  if (decoded.kind === 'streams') return await storeStreams(router, protocol, decoded, tenant) as Outcome<unknown> as Outcome<P>
  meterInvalid(router, protocol, decoded)
  return await submitDecoded(router, protocol, decoded, tenant)
}

/** Counts the entries a decoder refused (once per request: a caller that retries the rest does not count them again). */
export function meterInvalid (router: ShardRouter, protocol: Protocol, decoded: DecodedRecords<unknown>): void {
  if (decoded.invalidCount > 0) router.meter.rejected(protocol, 'invalid', decoded.invalidCount)
}

/**
 * The valid records to their shards. A refusal (429, 507) is thrown at once,
 * before anything is stored, so a caller knows before its next call whether
 * this one was taken (the syslog listener keeps a sender's batches in order
 * so, and retries a batch refused for a full queue).
 */
export function submitDecoded<P> (router: ShardRouter, protocol: Protocol, decoded: DecodedRecords<P>, tenant = FAKE_TENANT): Promise<Outcome<P>> {
  const { total, records, indexes, invalid, invalidCount } = decoded
  const outcome = (full: number[]): Outcome<P> => ({ total, invalid, invalidCount, full, stored: total - invalidCount - full.length })
  if (records.length === 0) return Promise.resolve(outcome([]))
  // Records were checked on the front: one past the tenant's entry limits refuses the request whole (400).
  const limits = router.entryLimitsOf(tenant)
  if (limits !== null) {
    for (let k = 0; k < records.length; k++) {
      const problem = entryLimitProblem(records[k]!, limits)
      if (problem === null) continue
      router.meter.rejected(protocol, 'entry_limit', total - invalidCount)
      router.meter.tenantRejected(tenant, 'entry_limit', total - invalidCount)
      throw new InvalidEntryError(`entry ${indexes === null ? k : indexes[k]!}: ${problem}; nothing of this request was stored`)
    }
  }
  return router.submit(records, protocol, tenant).then(({ full }) => outcome(indexes === null ? full : full.map((k) => indexes[k]!)))
}

/** Routed lines to their shards; the lines the quick look misrouted (a nested or repeated "service" key) are parsed and stored here. */
async function storeLines (router: ShardRouter, protocol: Protocol, decoded: DecodedLines, tenant: string): Promise<Outcome> {
  const { text, routed, window, total } = decoded
  const result = await router.ingestLines(text, routed.perShard, window, protocol, tenant)
  const invalid = routed.rejected.concat(result.rejected)
  let invalidCount = routed.rejectedCount + result.rejectedCount
  const full = result.full.slice()
  if (result.misrouted.length > 0) {
    const byIndex = linesAt(text, routed, result.misrouted)
    const records: LogRecord[] = []
    const indexes: number[] = []
    for (const index of result.misrouted) {
      const entry = checkLine(byIndex.get(index)!, window)
      if (typeof entry === 'string') {
        if (invalidCount++ < MAX_REJECTED_LISTED) invalid.push({ index, error: entry })
      } else {
        records.push(entry)
        indexes.push(index)
      }
    }
    if (records.length > 0) for (const k of (await router.ingest(records, protocol, tenant)).full) full.push(indexes[k]!)
  }
  // The shards counted what they refused (router.ingestLines); the rest was refused on the front.
  const refusedHere = invalidCount - result.rejectedCount
  if (refusedHere > 0) router.meter.rejected(protocol, 'invalid', refusedHere)
  invalid.sort((a, b) => a.index - b.index)
  full.sort((a, b) => a - b)
  return { total, invalid: invalid.slice(0, MAX_REJECTED_LISTED), invalidCount, full, stored: total - invalidCount - full.length }
}

/** Pushed streams to the shards that decode them; refused entries are listed as the shards worded them, in request order. */
async function storeStreams (router: ShardRouter, protocol: Protocol, decoded: DecodedStreams, tenant: string): Promise<Outcome<string>> {
  const { total } = decoded
  const { rejected, rejectedCount, full } = await router.ingestStreams(decoded, protocol, tenant)
  rejected.sort((a, b) => a.index - b.index)
  full.sort((a, b) => a - b)
  return { total, invalid: rejected.slice(0, MAX_REJECTED_LISTED).map((r) => r.error), invalidCount: rejectedCount, full, stored: total - rejectedCount - full.length }
}
