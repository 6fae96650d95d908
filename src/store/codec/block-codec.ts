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
  /** The encoded bytes of `payload`; may be a view of memory the codec shares (the caller keeps its own copy). */
  encode (payload: Uint8Array): Buffer
  /** The payload back from what `encode` made; throws when `data` is not such bytes. */
  decode (data: Buffer): Buffer
}
