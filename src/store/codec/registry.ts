import type { BlockCodec } from './block-codec.js'
import { BROTLI_1 } from './brotli-1.js'
import { BROTLI_1_SIDES, BROTLI_4_SIDES, DEFLATE_1_SIDES } from './sides.js'
import { DEFLATE_1 } from './deflate-1.js'
import { LZ4 } from './lz4.js'
import { NONE } from './none.js'

// Every block codec this build can read and write. A new codec is one file
// next to this one and one entry here, with an id no codec ever had: block
// files name a block's codec by that id alone.
const CODECS: readonly BlockCodec[] = [
  NONE,
  BROTLI_1,
  DEFLATE_1,
  LZ4,
  BROTLI_1_SIDES,
  BROTLI_4_SIDES,
  DEFLATE_1_SIDES
]

/** BLOCK_CODEC's default: brotli-1's speed on the columns and the messages apart, for 9-10% fewer bytes (the README's codec table). */
export const DEFAULT_CODEC: BlockCodec = BROTLI_1_SIDES

const byId = new Map<number, BlockCodec>()
const byName = new Map<string, BlockCodec>()
for (const c of CODECS) {
  if (!Number.isInteger(c.id) || c.id < 0 || c.id > 255 || byId.has(c.id)) throw new Error(`block codec ${c.name}: id ${c.id} is not a free byte`)
  if (byName.has(c.name)) throw new Error(`block codec name ${c.name} is listed twice`)
  byId.set(c.id, c)
  byName.set(c.name, c)
}

/** The codec that wrote blocks marked `id`, or undefined when this build has none by that id. */
export const codecById = (id: number): BlockCodec | undefined => byId.get(id)

/** The codec BLOCK_CODEC names, or undefined. */
export const codecByName = (name: string): BlockCodec | undefined => byName.get(name)

/** Every codec's name, for messages and --help. */
export const CODEC_NAMES: readonly string[] = CODECS.map((c) => c.name)

/** Kept raw whatever BLOCK_CODEC is: blocks whose payload is too small for compression to pay. */
export const RAW_CODEC = NONE

/** What LGBLOCK1 files (before codec ids) meant by their "compressed" flag. */
export const V1_COMPRESSED_CODEC = BROTLI_1
