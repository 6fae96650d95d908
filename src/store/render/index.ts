import { LokiJsonRenderer } from './loki-json.js'
import { NativeJsonRenderer } from './native-json.js'
import { TextRenderer } from './text.js'
import type { EntryRenderer } from './renderer.js'

// Every output format a shard can render a query's entries in, by name. A
// query names its format; a new one (Loki's JSON, NDJSON, text) is one
// module and one line here.

export const RENDERERS = {
  native: () => new NativeJsonRenderer(),
  /** GET /logs's entries as NDJSON lines. */
  ndjson: () => new NativeJsonRenderer(10),
  text: () => new TextRenderer(),
  loki: () => new LokiJsonRenderer()
} satisfies Record<string, () => EntryRenderer>

export type RenderFormat = keyof typeof RENDERERS
