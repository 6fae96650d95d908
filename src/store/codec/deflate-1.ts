import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { outputChunk, type BlockCodec } from './block-codec.js'

/**
 * Raw deflate (no zlib header or Adler-32: block files check each block with
 * CRC-32 already) at level 1, the fastest that still compresses.
 */
export const DEFLATE_1: BlockCodec = {
  id: 2,
  name: 'deflate-1',
  encode: (payload) => deflateRawSync(payload, { level: 1 }),
  decode: (data, size) => inflateRawSync(data, outputChunk(size))
}
