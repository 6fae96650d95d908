import { jsonUnescape } from '../../core/json-text.js'
import { lineFields } from '../../logql/match.js'
import type { BlockView } from '../block.js'
import { EntryLabels } from '../entry-labels.js'
import type { Stream } from '../stream.js'
import { JoinedRenderer } from './renderer.js'

// Loki's detected_fields, the shard's half: each entry rendered as the fields
// found in it, its structured metadata and what | json or | logfmt reads
// from its line (picked by the line's look, as Loki does), so the shards parse
// the lines and the front only counts (http/loki-labels-route.ts). An entry
// is a run of fields, each `<source><name>\0<value>\0`, where the source is
// FIELD_SOURCE's letter.

export const FIELD_SOURCE = { m: null, j: 'json', l: 'logfmt' } as const

/** A 0 byte inside a name or value (a JSON line may hold \u0000) would end it early. */
const clean = (s: string): string => s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s

export class DetectedFieldsRenderer extends JoinedRenderer {
  private readonly labels = new EntryLabels()

  add (_stream: Stream, v: BlockView, i: number): void {
    this.open()
    const attrs = this.labels.attributes(v, i)
    if (attrs !== null) for (const k in attrs) this.field('m', k, attrs[k]!)
    const line = jsonUnescape(v.msg, v.msgStart[i]!, v.msgEnd[i]!)
    const look = line.trimStart()
    const parser = look.startsWith('{') ? 'json' : look.includes('=') ? 'logfmt' : null
    if (parser !== null) {
      const fields = lineFields(parser, line)
      if (fields.__error__ === undefined) for (const k in fields) this.field(parser === 'json' ? 'j' : 'l', k, fields[k]!)
    }
    this.close()
  }

  private field (source: keyof typeof FIELD_SOURCE, name: string, value: string): void {
    const w = this.w
    w.ascii(source)
    w.utf8(clean(name))
    w.byte(0)
    w.utf8(clean(value))
    w.byte(0)
  }
}
