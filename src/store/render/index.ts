import type { ShardQuery } from '../shard-messages.js'
import { DetectedFieldsRenderer } from './detected-fields.js'
import { LokiStreamsRenderer } from './loki-streams.js'
import { NativeJsonRenderer } from './native-json.js'
import { TextRenderer } from './text.js'
import type { EntryRenderer } from './renderer.js'

// Every output format a shard can render a query's entries in, by name. A
// query names its format; a new one (Loki's JSON, NDJSON, text) is one
// module and one line here. A renderer may read the query (its Loki shape).

export const RENDERERS = {
  native: () => new NativeJsonRenderer(),
  /** GET /logs's entries as NDJSON lines. */
  ndjson: () => new NativeJsonRenderer(10),
  text: () => new TextRenderer(),
  /** Loki's detected_fields: the fields found in each entry. */
  fields: () => new DetectedFieldsRenderer(),
  /** A Loki log query's entries, each its stream labels and value (the query's `loki` shape), for tails' replay. */
  'loki-streams': (q) => new LokiStreamsRenderer(q.loki ?? { labelStages: [], categorize: false }),
  /** A Loki log query's answer: values, and each entry's labels as an index into the part's label sets. */
  'loki-answer': (q) => new LokiStreamsRenderer(q.loki ?? { labelStages: [], categorize: false }, true)
} satisfies Record<string, (q: ShardQuery) => EntryRenderer>

export type RenderFormat = keyof typeof RENDERERS
