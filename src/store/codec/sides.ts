import { brotliCompressSync, brotliDecompressSync, constants as zlib, deflateRawSync, inflateRawSync } from 'node:zlib'
import { ByteReader, ByteWriter } from '../bytes.js'
import { outputChunk, type BlockCodec } from './block-codec.js'

type Compress = (bytes: Uint8Array) => Buffer

/** Where encode() lays out a block's data; the caller keeps a copy (BlockCodec.encode), so one per thread is enough. */
const scratch = new ByteWriter(64 * 1024)
type Decompress = (data: Buffer, options: { chunkSize: number } | undefined) => Buffer

/**
 * A general codec on the two sides of a block's payload apart: the columns
 * (dictionary, timestamp and sequence deltas, lengths, attribute pairs:
 * varints and short strings) and the message text. Compressed together, the
 * numbers disturb the text's model; apart, a realistic block takes 9% fewer
 * bytes at the same speed (`node dist/bench/codecs.js`, the README's codec table).
 *
 *   data = varint(columns length) | varint(compressed columns length) | packed columns | packed messages
 */
function twoSides (id: number, name: string, compress: Compress, decompress: Decompress): BlockCodec {
  const sides = (data: Buffer, size: number): readonly [Buffer, Buffer] => {
    const r = new ByteReader(data)
    const columnsLength = r.varint()
    const packedLength = r.varint()
    const from = r.pos
    if (from + packedLength > data.length || (size > 0 && columnsLength > size)) throw new RangeError(`${name}: the block's header does not fit its data`)
    const columns = decompress(data.subarray(from, from + packedLength), outputChunk(columnsLength))
    const messages = decompress(data.subarray(from + packedLength), outputChunk(size > 0 ? size - columnsLength : 0))
    if (columns.length !== columnsLength) throw new RangeError(`${name}: the block's columns decode to ${columns.length} bytes, not ${columnsLength}`)
    return [columns, messages]
  }
  return {
    id,
    name,
    encode (payload, cut = payload.length) {
      const columns = compress(payload.subarray(0, cut))
      const messages = compress(payload.subarray(cut))
      const w = scratch
      w.length = 0
      w.reserve(16 + columns.length + messages.length)
      w.varint(cut)
      w.varint(columns.length)
      w.bytes(columns)
      w.bytes(messages)
      return w.view()
    },
    decode (data, size) {
      const [columns, messages] = sides(data, size)
      return Buffer.concat([columns, messages])
    },
    decodeSides: sides
  }
}

const brotli = (quality: number, lgwin: number): Compress => (bytes) => brotliCompressSync(bytes, {
  params: {
    [zlib.BROTLI_PARAM_QUALITY]: quality,
    [zlib.BROTLI_PARAM_LGWIN]: lgwin,
    [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length
  }
})

/** Brotli quality 1, 64 KiB window: brotli-1's speed, 9-10% fewer bytes. The default. */
export const BROTLI_1_SIDES = twoSides(4, 'brotli-1s', brotli(1, 16), brotliDecompressSync)
/** Brotli quality 4, 256 KiB window: 17% fewer bytes than brotli-1 on the realistic corpus, for compression about 3× slower. */
export const BROTLI_4_SIDES = twoSides(5, 'brotli-4s', brotli(4, 18), brotliDecompressSync)
/** Raw deflate level 1 on each side. */
export const DEFLATE_1_SIDES = twoSides(6, 'deflate-1s', (bytes) => deflateRawSync(bytes, { level: 1 }), inflateRawSync)
