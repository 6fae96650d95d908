import type { BlockView } from '../block.js'
import type { Stream } from '../stream.js'
import { jsonUnescape } from '../../core/json-text.js'
import type { ByteWriter } from '../bytes.js'
import { JoinedRenderer } from './renderer.js'
import { UTC_WIDTH, writeUtc } from './utc-bytes.js'

// GET /logs as text, one line per entry: `<timestamp> <service> <message>`,
// the message's newlines (and carriage returns) written as \n (\r) so each
// entry stays one line; for terminals, grep and awk.

export class TextRenderer extends JoinedRenderer {
  constructor () { super(10) }

  add (stream: Stream, v: BlockView, i: number): void {
    writeTextEntry(this.open(), stream, v, i)
    this.close()
  }
}

/** Writes entry `i` of `v` (of `stream`) as one text line, without its newline. */
export function writeTextEntry (w: ByteWriter, stream: Stream, v: BlockView, i: number): void {
  w.reserve(UTC_WIDTH)
  writeUtc(w.buf, w.length, v.ts[i]!)
  w.length += UTC_WIDTH
  w.byte(32)
  w.bytes(stream.serviceBytes)
  w.byte(32)
  const from = v.msgStart[i]!
  const to = v.msgEnd[i]!
  // Messages are held JSON-escaped: without a backslash the bytes are the text itself.
  if (v.msg.subarray(from, to).includes(92)) w.utf8(jsonUnescape(v.msg, from, to).replace(/\r/g, '\\r').replace(/\n/g, '\\n'))
  else w.bytes(v.msg, from, to)
}
