import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib'
import { outputChunk, type BlockCodec } from './block-codec.js'

/**
 * Brotli at quality 1 with a 64 KiB window (lgwin 16): the settings sealed
 * blocks have used since blocks were compressed, and the id that LGBLOCK1
 * files' "compressed" bit stands for.
 */
export const BROTLI_1: BlockCodec = {
  id: 1,
  name: 'brotli-1',
  encode: (payload) => brotliCompressSync(payload, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: 1,
      [zlib.BROTLI_PARAM_LGWIN]: 16,
      [zlib.BROTLI_PARAM_SIZE_HINT]: payload.length
    }
  }),
  decode: (data, size) => brotliDecompressSync(data, outputChunk(size))
}
