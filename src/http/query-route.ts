import { parseLogsQuery } from '../query-params.js'
import { renderPage } from '../results.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { formatTimestamp, nowUs } from '../timestamp.js'
import { json, type Answer } from './answer.js'

/** GET /logs: fan out to the shards involved, merge their sorted parts, render one page. */
export async function queryLogs (raw: Record<string, unknown>, router: ShardRouter, settings: Settings): Promise<Answer> {
  const now = nowUs()
  const q = parseLogsQuery(raw, {
    start: now - settings.retention * 1000,
    end: now + settings.futureSkew * 1000
  })
  const parts = await router.query(q)
  return json(200, renderPage(parts, q.descending, q.limit))
}

/** GET /services: every service held, with its entry count and time span. */
export async function listServices (router: ShardRouter): Promise<Answer> {
  const services = (await router.services()).map((s) => ({
    service: s.service,
    count: s.count,
    oldest: formatTimestamp(s.oldest),
    newest: formatTimestamp(s.newest)
  }))
  return json(200, JSON.stringify({ services }))
}
