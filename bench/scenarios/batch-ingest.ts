import { batchFeed } from '../feeds.js'
import type { Scenario } from '../scenario.js'

// (b) NDJSON batches: 1000 entries per request over 50 services, ~5% of them
// stamped up to 2 s in the past (late arrivals that land inside the sorted
// logs rather than at their end), 4 connections. The bulk-ingest path. The
// server's CPU time per thread is read around the measured run, for the
// per-entry costs and the scaling projection (bench/thread-cpu.ts).

const BODIES = 48

export const batchIngest: Scenario = {
  id: 'b',
  title: 'NDJSON batches of 1000, ~5% late',
  connections: 4,
  targets: ['logagg', 'naive', 'raw'],
  preloaded: false,
  threadCpu: true,
  async prepare ({ config }) {
    const feed = batchFeed(BODIES, config.batchSize, 2)
    return {
      requests: () => [{ kind: 'ingest', request: feed.request() }],
      entriesPerKind: { ingest: feed.entriesPerBody },
      note: `${feed.entriesPerBody} entries/request`
    }
  }
}
