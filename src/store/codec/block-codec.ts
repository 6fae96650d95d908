// How a sealed block's payload (block.ts) is turned into the bytes kept in
// memory and in block files, and back. Modelled on Loki's chunkenc.Encoding:
// a one-byte id names the codec in each block file's index, per block, so a
// block is always decoded by the codec that wrote it, whatever BLOCK_CODEC
// says today. Codecs are listed in registry.ts; adding one is one file there
// and one entry in its list.

export interface BlockCodec {
  /** The byte written in block files for blocks this codec encoded; never reused for another codec. */
  readonly id: number
  /** The name BLOCK_CODEC takes, e.g. `brotli-1`. */
  readonly name: string
  /**
   * The encoded bytes of `payload`; may be a view of memory the codec shares
   * (the caller keeps its own copy). `cut`, when given, is where the payload's
   * message bytes start (the columns before it are numbers and attribute
   * strings): a codec may compress the two sides apart.
   */
  encode (payload: Uint8Array, cut?: number): Buffer
  /**
   * The payload back from what `encode` made; throws when `data` is not such
   * bytes. `size`, when known (0 otherwise), is the payload's length: a codec
   * may decode straight into one buffer of it instead of chunks joined after.
   */
  decode (data: Buffer, size: number): Buffer
  /**
   * A codec that compressed the two sides of the cut apart may hand them back
   * apart, columns then messages, rather than join them (a copy) for decode().
   */
  decodeSides? (data: Buffer, size: number): readonly [Buffer, Buffer]
}

/**
 * zlib's options for decoding a payload of `size` bytes (0: unknown) into one
 * output buffer: one byte more than the payload, so zlib never fills it and
 * asks for a second (it hands back a view of the one buffer; without this it
 * decodes in 16 KiB chunks and copies them together).
 */
export function outputChunk (size: number): { chunkSize: number } | undefined {
  return size > 0 ? { chunkSize: Math.max(64, size + 1) } : undefined
}
