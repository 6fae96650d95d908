import type { Request, Response } from 'express'
import { parseLogsQuery } from '../query-params.js'
import { renderPage } from '../results.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { formatTimestamp, nowUs } from '../timestamp.js'
import { sendJson } from './send.js'

/** GET /logs: fan out to the shards involved, merge their sorted parts, render one page. */
export function getLogs (router: ShardRouter, settings: Settings) {
  return async function getLogsHandler (req: Request, res: Response): Promise<void> {
    const now = nowUs()
    const q = parseLogsQuery(req.query as Record<string, unknown>, {
      start: now - settings.retention * 1000,
      end: now + settings.futureSkew * 1000
    })
    const parts = await router.query(q)
    sendJson(res, 200, renderPage(parts, q.descending, q.limit))
  }
}

/** GET /services: every service held, with its entry count and time span. */
export function getServices (router: ShardRouter) {
  return async function getServicesHandler (_req: Request, res: Response): Promise<void> {
    const services = (await router.services()).map((s) => ({
      service: s.service,
      count: s.count,
      oldest: formatTimestamp(s.oldest),
      newest: formatTimestamp(s.newest)
    }))
    sendJson(res, 200, JSON.stringify({ services }))
  }
}
