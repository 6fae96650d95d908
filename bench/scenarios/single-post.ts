import { singleEntryFeed } from '../feeds.js'
import type { Scenario } from '../scenario.js'

// (a) Single-entry POST: one JSON object per request over 50 services, 32
// connections. Measures per-request overhead: HTTP, body read, validation and
// the ack after the shard has stored the entry. The 4096 bodies are built
// once; each send only rewrites its timestamp to "now".

const BODIES = 4096

export const singlePost: Scenario = {
  id: 'a',
  title: 'single-entry POST',
  connections: 32,
  targets: ['logagg', 'naive', 'raw'],
  preloaded: false,
  async prepare () {
    const feed = singleEntryFeed(BODIES, 1)
    return {
      requests: () => [{ kind: 'ingest', request: feed.request() }],
      entriesPerKind: { ingest: 1 },
      note: '1 entry/request'
    }
  }
}
