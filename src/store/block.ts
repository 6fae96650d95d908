import type { ByteWriter } from './bytes.js'
// A stream's entries live in blocks. An open block takes appends in any
// order (sorted when read); once full or idle it is sealed:
// sorted by (ts, seq), laid out in columns, and compressed.
//
//   sealed block = { minTs, maxTs, n, codec, data }     data = codec.encode(payload) (codec/: BLOCK_CODEC)
//   payload:  n | dict (escaped strings) | ts deltas | seq deltas (zigzag)
//             | message lengths | attribute pairs (dict ids) | message bytes
//
// Messages and attribute strings are kept JSON-escaped, so a query copies
// them into its answer without escaping them again. Both kinds of block
// give a scan the same sorted, columnar BlockView.

/** Entries per block at most: 512 compress as well as 1024 (bench/codecs.ts) and halve what a query decompresses. */
export const BLOCK_ENTRIES = 512
/** Message bytes per open block at most, so a block of long lines seals early. */
export const BLOCK_BYTES = 64 * 1024

/** Flat attribute pairs [k0, v0, k1, v1, ...]. */
export type Pairs = string[]

/** What a scan reads from a block: its entries sorted by (ts, seq), in columns. */
export interface BlockView {
  readonly n: number
  readonly ts: Float64Array
  readonly seq: Float64Array
  /** JSON-escaped UTF-8 messages; entry i is msg[msgStart[i], msgEnd[i]). */
  readonly msg: Buffer
  readonly msgStart: Uint32Array
  readonly msgEnd: Uint32Array
  /** Attribute pairs of entry i are pairs [attrEnd[i - 1], attrEnd[i]); null when no entry has any. */
  readonly attrEnd: Uint32Array | null
  /** Dictionary ids of each pair's key and value. */
  readonly attrKey: Uint32Array
  readonly attrVal: Uint32Array
  /** The block's distinct attribute strings, JSON-escaped. */
  readonly dict: readonly string[]
  /** The same strings as UTF-8 bytes where the block has them (sealed blocks): string d is dictBytes[dictStart[d], dictEnd[d]). */
  readonly dictBytes?: Buffer
  readonly dictStart?: Uint32Array
  readonly dictEnd?: Uint32Array
  /**
   * Each entry's line level (logql/detected-level.ts lineLevel, as an index
   * into LEVELS), where the block keeps them (sealed blocks: worked out once
   * and kept while the thread's room for them lasts).
   */
  readonly lineLevels?: () => Uint8Array
}

/** Writes dictionary string `d` of `v`: its bytes when the view holds them, else the string encoded. */
export function writeDict (w: ByteWriter, v: BlockView, d: number): void {
  if (v.dictBytes !== undefined) w.bytes(v.dictBytes, v.dictStart![d], v.dictEnd![d])
  else w.utf8(v.dict[d]!)
}

export interface Block {
  readonly minTs: number
  readonly maxTs: number
  readonly n: number
  /** Bytes this block holds in memory (estimated for open blocks). */
  readonly bytes: number
  view (): BlockView
}

export const EMPTY_U32 = new Uint32Array(0)
