import { batchFeed, pathRequest } from '../feeds.js'
import type { TaggedRequest } from '../load.js'
import { rangePaths } from '../preload.js'
import type { Scenario } from '../scenario.js'

// (e) Mixed: 90% batch ingest (NDJSON, 1000 entries, ~5% late), 10% queries
// (half one-service, half all-services ranges of ~1000 entries), on the
// preloaded store, 8 connections. Each connection cycles through nine POSTs
// and one GET. entries/s counts stored entries; the note gives the queries'
// own rate and p99, which shows how ingest load delays reads.

const BODIES = 48
const INGEST_PER_QUERY = 9
const PATHS = 128

export const mixed: Scenario = {
  id: 'e',
  title: 'mixed: 90% batch ingest, 10% queries',
  connections: 8,
  targets: ['logagg', 'naive'],
  preloaded: true,
  async prepare ({ config, layout }) {
    if (layout === null) throw new Error('the mixed scenario needs a preloaded store')
    const feed = batchFeed(BODIES, config.batchSize, 5)
    const expected = config.limit * 1.1
    const one = rangePaths(layout, { oneService: true, expected, limit: config.limit, count: PATHS / 2, seed: 6 })
    const all = rangePaths(layout, { oneService: false, expected, limit: config.limit, count: PATHS / 2, seed: 7 })
    const paths = one.flatMap((p, i) => [p, all[i]!])
    return {
      requests: (): TaggedRequest[] => [
        ...Array.from({ length: INGEST_PER_QUERY }, () => ({ kind: 'ingest', request: feed.request() })),
        { kind: 'query', request: pathRequest(paths) }
      ],
      entriesPerKind: { ingest: feed.entriesPerBody, query: 0 }
    }
  }
}
