import { pathRequest } from '../feeds.js'
import { rangePaths } from '../preload.js'
import type { Scenario } from '../scenario.js'

// (k) (c1)'s queries as Loki's query_range: one service, 1000 lines, forward,
// one connection, over the same preloaded store. Compare with (c1) in the same
// run: the same page through the Loki API should cost no more than GET /logs.

const PATHS = 256
const HEADROOM = 1.1
const BATCH_TIMEOUT_MS = 30_000

/** A GET /logs range path as the same query to Loki's query_range. */
export function lokiPath (logsPath: string): string {
  const q = new URLSearchParams(logsPath.slice(logsPath.indexOf('?') + 1))
  const query = `{service="${q.get('service')!}"}`
  return `/loki/api/v1/query_range?${new URLSearchParams({ query, start: q.get('start')!, end: q.get('end')!, limit: q.get('limit')!, direction: 'forward' }).toString()}`
}

export const lokiQueryRange: Scenario = {
  id: 'k',
  title: 'Loki query_range, one service, 1000 lines, one connection',
  connections: 1,
  targets: ['logagg'],
  preloaded: true,
  async prepare ({ layout, config, fixture }) {
    if (layout === null) throw new Error('query scenarios need a preloaded store')
    const paths = rangePaths(layout, { oneService: true, expected: config.limit * HEADROOM, limit: config.limit, count: PATHS, seed: 3 }).map(lokiPath)
    const counts: number[] = []
    for (const path of paths.slice(0, 16)) {
      const res = await fetch(fixture.url + path, { signal: AbortSignal.timeout(BATCH_TIMEOUT_MS) })
      const body = await res.text()
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${body.slice(0, 300)}`)
      const answer = JSON.parse(body) as { data: { result: Array<{ values: unknown[] }> } }
      counts.push(answer.data.result.reduce((n, s) => n + s.values.length, 0))
    }
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length
    return {
      requests: () => [{ kind: 'query', request: pathRequest(paths) }],
      entriesPerKind: { query: mean },
      note: `${Math.round(mean)} lines/answer (probe ${Math.min(...counts)}–${Math.max(...counts)})`
    }
  }
}
