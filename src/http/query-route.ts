import { encodeServiceCursor, parseLogsQuery, parseServicesQuery } from '../query/params.js'
import { renderPage } from '../query/page.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { formatTimestamp, nowUs } from '../timestamp.js'
import { json, type Answer } from './answer.js'

/** GET /logs: fan out to the shards involved, merge their sorted parts, render one page. */
export async function queryLogs (raw: Record<string, unknown>, router: ShardRouter, settings: Settings, signal?: AbortSignal): Promise<Answer> {
  const now = nowUs()
  const q = parseLogsQuery(raw, {
    start: now - settings.retention * 1000,
    end: now + settings.futureSkew * 1000
  })
  const parts = await router.query(q, signal)
  return json(200, renderPage(parts, q.descending, q.limit, settings.maxPageBytes))
}

/** GET /services: a page of the services held, in name order, with entry counts and time spans. */
export async function listServices (raw: Record<string, unknown>, router: ShardRouter): Promise<Answer> {
  const { limit, after } = parseServicesQuery(raw)
  const page = await router.services(after, limit)
  const services = page.services.map((s) => ({
    service: s.service,
    count: s.count,
    oldest: formatTimestamp(s.oldest),
    newest: formatTimestamp(s.newest)
  }))
  const last = services[services.length - 1]
  const next = page.more && last !== undefined ? encodeServiceCursor(last.service) : null
  return json(200, JSON.stringify({ services, next }))
}
