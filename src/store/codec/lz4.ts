import { compressSync, uncompressSync } from 'lz4-napi'
import type { BlockCodec } from './block-codec.js'

/**
 * LZ4 (lz4-napi: lz4_flex built for each platform, shipped as prebuilt
 * packages): several times brotli's decompression speed, for about 1.5× its
 * bytes (bench/codecs.ts). The codec for a store that answers many queries
 * and has memory to spare; the default stays brotli-1 (the README's codec table).
 */
export const LZ4: BlockCodec = {
  id: 3,
  name: 'lz4',
  encode: (payload) => compressSync(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)),
  decode: (data) => uncompressSync(data)
}
