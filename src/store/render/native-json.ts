import type { BlockView } from '../block.js'
import type { Stream } from '../stream.js'
import type { ByteWriter } from '../bytes.js'
import { JoinedRenderer, writeAttrMember } from './renderer.js'
import { UTC_WIDTH, writeUtc } from './utc-bytes.js'

// GET /logs entries as JSON objects:
//   {"service":"api","timestamp":"2026-…Z","message":"…","attributes":{"k":"v"}}
// "attributes" holds the stream's labels other than service, then the entry's
// own attributes, and is left out when there are neither.

const SERVICE = Buffer.from('{"service":')
const TIMESTAMP = Buffer.from(',"timestamp":"')
const MESSAGE = Buffer.from('","message":"')
const ATTRIBUTES = Buffer.from('","attributes":{')

export class NativeJsonRenderer extends JoinedRenderer {
  add (stream: Stream, v: BlockView, i: number): void {
    writeNativeEntry(this.open(), stream, v, i)
    this.close()
  }
}

/** Writes entry `i` of `v` (of `stream`) as a GET /logs JSON object. */
export function writeNativeEntry (w: ByteWriter, stream: Stream, v: BlockView, i: number): void {
  w.bytes(SERVICE)
  w.bytes(stream.serviceJsonBytes)
  w.bytes(TIMESTAMP)
  w.reserve(UTC_WIDTH)
  writeUtc(w.buf, w.length, v.ts[i]!)
  w.length += UTC_WIDTH
  w.bytes(MESSAGE)
  w.bytes(v.msg, v.msgStart[i], v.msgEnd[i])
  const from = v.attrEnd === null || i === 0 ? 0 : v.attrEnd[i - 1]!
  const to = v.attrEnd === null ? 0 : v.attrEnd[i]!
  if (stream.labelsJsonBytes.length === 0 && from === to) {
    w.byte(34)
    w.byte(125)
    return
  }
  w.bytes(ATTRIBUTES)
  let first = true
  if (stream.labelsJsonBytes.length > 0) {
    w.bytes(stream.labelsJsonBytes)
    first = false
  }
  for (let p = from; p < to; p++) {
    // An attribute named like a label of the stream: the label is shown, once.
    if (stream.labelKeysJson !== null && stream.labelKeysJson.has(v.dict[v.attrKey[p]!]!)) continue
    if (!first) w.byte(44)
    first = false
    writeAttrMember(w, v, p)
  }
  w.byte(125)
  w.byte(125)
}
