import { ByteWriter } from '../bytes.js'

/**
 * Scratch space shared by the renderers of this thread, so a page is written
 * into one buffer and copied once, where its part is made (query-run.ts). It is let go after a large page, so
 * one big answer does not pin its size for the life of the thread.
 */
let scratch: ByteWriter | null = null
const KEEP_SCRATCH_BYTES = 1024 * 1024

/** The thread's scratch writer, emptied (or a new one while another renderer holds it). */
export function takeScratch (): ByteWriter {
  const w = scratch ?? new ByteWriter(256 * 1024)
  scratch = null
  w.length = 0
  return w
}

/** Takes `w` back for the next renderer, unless it grew large. */
export function giveBack (w: ByteWriter): void {
  if (w.buf.length <= KEEP_SCRATCH_BYTES) scratch = w
}
