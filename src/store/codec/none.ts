import type { BlockCodec } from './block-codec.js'

/** Stored as is: for payloads too small to gain from compression, and for measuring the others against. */
export const NONE: BlockCodec = {
  id: 0,
  name: 'none',
  encode: (payload) => Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
  decode: (data) => data
}
