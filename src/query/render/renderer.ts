import type { BlockView } from '../../store/block.js'
import type { Stream } from '../../store/stream.js'

/**
 * Turns the entries a scan finds into the bytes of one output format. The
 * store hands over columns (a block view and an index) and never knows the
 * HTTP shape; each format is one module that implements this.
 */
export interface EntryRenderer {
  /** Appends entry `i` of `view`, which belongs to `stream`. */
  add (stream: Stream, view: BlockView, i: number): void
  /** Bytes rendered so far. */
  readonly bytes: number
  /** The rendered entries, joined by ',', and where each ends. */
  finish (): { body: Uint8Array<ArrayBuffer>, ends: Uint32Array<ArrayBuffer> }
}
