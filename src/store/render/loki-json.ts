import type { BlockView } from '../block.js'
import type { Stream } from '../stream.js'
import { JoinedRenderer, writeAttrMembers } from './renderer.js'

// Entries for Loki's query API, one JSON object each, which the front groups
// into result streams (src/http/loki-query-route.ts):
//   {"l":{"service":"api","env":"prod"},"m":{"k":"v"},"t":"<unix ns>","s":"<line>"}
// l: the stream's labels with its service; m: the entry's attributes (Loki's
// structured metadata), left out when there are none.

const LABELS = Buffer.from('{"l":{"service":')
const TIME = Buffer.from('},"t":"')
const LINE = Buffer.from('000","s":"')

export class LokiJsonRenderer extends JoinedRenderer {
  add (stream: Stream, v: BlockView, i: number): void {
    const w = this.open()
    w.bytes(LABELS)
    w.utf8(stream.serviceJson)
    if (stream.labelsJson !== '') {
      w.byte(44)
      w.utf8(stream.labelsJson)
    }
    const from = v.attrEnd === null || i === 0 ? 0 : v.attrEnd[i - 1]!
    const to = v.attrEnd === null ? 0 : v.attrEnd[i]!
    if (from < to) {
      w.ascii('},"m":{')
      writeAttrMembers(w, v, from, to)
    }
    w.bytes(TIME)
    // Microseconds, so the nanoseconds end in 000; timestamps are positive integers.
    w.ascii(String(v.ts[i]!))
    w.bytes(LINE)
    w.bytes(v.msg, v.msgStart[i], v.msgEnd[i])
    w.ascii('"}')
    this.close()
  }
}
