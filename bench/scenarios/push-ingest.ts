import { batchTemplates } from '../feeds.js'
import { lokiFeed, otlpFeed, type BodyFeed } from '../push-feeds.js'
import type { TemplateEntry } from '../feeds.js'
import type { Scenario } from '../scenario.js'

// (f) Loki push (protobuf + snappy) and (g) OTLP/HTTP (protobuf): the very
// entries of (b)'s NDJSON batches (same seed), 1000 per request, one stream
// or resource per service, 4 connections. Only logagg speaks these
// protocols; the comparison is with (b) logagg in the same run, and the
// server's CPU per entry by thread shows where the decoding costs.

const BODIES = 48

function pushScenario (id: 'f' | 'g', title: string, feedOf: (batches: TemplateEntry[][]) => BodyFeed): Scenario {
  return {
    id,
    title,
    connections: 4,
    targets: ['logagg'],
    preloaded: false,
    threadCpu: true,
    async prepare ({ config }) {
      const feed = feedOf(batchTemplates(BODIES, config.batchSize, 2))
      return {
        requests: () => [{ kind: 'ingest', request: feed.request() }],
        entriesPerKind: { ingest: feed.entriesPerBody },
        note: `${feed.entriesPerBody} entries/request, the entries of (b)`
      }
    }
  }
}

export const lokiIngest = pushScenario('f', 'Loki push, protobuf + snappy, batches of 1000', lokiFeed)
export const otlpIngest = pushScenario('g', 'OTLP/HTTP protobuf, batches of 1000', otlpFeed)
