import type { After } from '../store/shard-messages.js'

// A cursor is the (timestamp, seq) of the last entry a page returned, plus
// the order it was read in, as opaque base64url text. The next page resumes
// strictly after it, so each entry comes back exactly once.

export interface Cursor {
  after: After
  descending: boolean
}

export function encodeCursor (c: Cursor): string {
  return Buffer.from(`v1:${c.descending ? 'd' : 'a'}:${c.after.ts}:${c.after.seq}`).toString('base64url')
}

/** Decodes a cursor made by encodeCursor, or returns null when the text is not one. */
export function decodeCursor (text: string): Cursor | null {
  if (text.length > 100 || !/^[A-Za-z0-9_-]+$/.test(text)) return null
  const m = /^v1:([ad]):(-?\d{1,17}):(\d{1,17})$/.exec(Buffer.from(text, 'base64url').toString('latin1'))
  if (m === null) return null
  const ts = Number(m[2])
  const seq = Number(m[3])
  if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(seq)) return null
  return { after: { ts, seq }, descending: m[1] === 'd' }
}
