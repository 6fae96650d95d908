import { EMPTY_U32, type Block, type BlockView } from './block.js'
import { blockArena, type Placed } from './block-arena.js'
import { ByteReader, ByteWriter } from './bytes.js'
import type { BlockCodec } from './codec/block-codec.js'
import { RAW_CODEC } from './codec/registry.js'
import { LEVELS, lineLevel, type Level } from '../logql/detected-level.js'

/** Payloads smaller than this are kept raw: compressing would not save enough to pay for itself. */
const COMPRESS_FROM = 256

/** Bytes a sealed block costs beyond its data: the object, the Buffer, its backing store. */
const SEALED_OVERHEAD_BYTES = 160
/** Bytes a block whose data stays on disk costs: the object and its location. */
const COLD_BYTES = 200

/** Where a sealed block sits in a block file (src/store/disk/), once it was written to one. */
export interface BlockLocation {
  /** Reads the block's data (checked against its checksum) from its file. */
  read (): Buffer
  /** The file's name, for messages. */
  readonly file: string
}

export class SealedBlock implements Block {
  /** Set once the block is in a block file; until then its entries are only in the write-ahead log. */
  location: BlockLocation | null = null
  /** The payload's length when this process sealed the block (0 when read from a file): the codec's size hint. */
  private size = 0

  private constructor (
    readonly minTs: number,
    readonly maxTs: number,
    readonly n: number,
    /** The payload as `codec` encoded it, placed in the thread's block arena; null while it stays on disk (cold). */
    private hot: Placed | null,
    /** The codec that encoded the data, and so the one that decodes it. */
    readonly codec: BlockCodec
  ) {}

  /** A block read back from a block file: its data in memory, or null to leave it on disk until read. */
  static stored (minTs: number, maxTs: number, n: number, data: Buffer | null, codec: BlockCodec, location: BlockLocation): SealedBlock {
    const block = new SealedBlock(minTs, maxTs, n, data === null ? null : blockArena.place(data), codec)
    block.location = location
    return block
  }

  /** Bytes this block holds in memory: its data, or only its location once cold. */
  get bytes (): number { return this.hot === null ? COLD_BYTES : this.hot.bytes.length + SEALED_OVERHEAD_BYTES }

  /** The payload, read from its file when the block is cold. */
  get data (): Buffer { return this.hot?.bytes ?? this.location!.read() }

  get cold (): boolean { return this.hot === null }

  /**
   * Lets go of the data of a block that is in a block file (queries then read
   * it from there, through the OS page cache); returns the change in bytes held.
   */
  evict (): number {
    if (this.hot === null || this.location === null) return 0
    const before = this.bytes
    blockArena.free(this.hot)
    this.hot = null
    recentDrop(this)
    return this.bytes - before
  }

  /**
   * The block was purged: its bytes leave the arena's count and are never
   * moved again, but stay readable for a scan that still holds the block.
   */
  drop (): void {
    if (this.hot !== null) blockArena.free(this.hot)
    recentDrop(this)
    levelsDrop(this)
  }

  /** Seals entries [from, to) of a sorted view with `codec` (payloads under 256 bytes are kept raw). */
  static encode (v: BlockView, codec: BlockCodec, from = 0, to = v.n): SealedBlock {
    const n = to - from
    const minTs = v.ts[from]!
    const maxTs = v.ts[to - 1]!
    let text = 0
    for (let i = from; i < to; i++) text += v.msgEnd[i]! - v.msgStart[i]!
    const w = payloadScratch
    w.length = 0
    w.reserve(text + n * 8 + 64)
    w.varint(n)
    // The dictionary of the strings these entries use, renumbered.
    const ids = new Map<number, number>()
    const dict: string[] = []
    const id = (old: number): number => {
      let k = ids.get(old)
      if (k === undefined) {
        ids.set(old, k = dict.length)
        dict.push(v.dict[old]!)
      }
      return k
    }
    const pairs: number[] = []
    const counts: number[] = []
    if (v.attrEnd !== null) {
      for (let i = from; i < to; i++) {
        const start = i === 0 ? 0 : v.attrEnd[i - 1]!
        counts.push(v.attrEnd[i]! - start)
        for (let p = start; p < v.attrEnd[i]!; p++) pairs.push(id(v.attrKey[p]!), id(v.attrVal[p]!))
      }
    }
    w.varint(dict.length)
    for (const s of dict) {
      w.varint(Buffer.byteLength(s))
      w.utf8(s)
    }
    let prevTs = minTs
    let prevSeq = 0
    for (let i = from; i < to; i++) {
      w.varint(v.ts[i]! - prevTs)
      prevTs = v.ts[i]!
      w.zigzag(v.seq[i]! - prevSeq)
      prevSeq = v.seq[i]!
    }
    for (let i = from; i < to; i++) w.varint(v.msgEnd[i]! - v.msgStart[i]!)
    if (pairs.length === 0) {
      w.byte(0)
    } else {
      w.byte(1)
      let p = 0
      for (const count of counts) {
        w.varint(count)
        for (let k = 0; k < 2 * count; k++) w.varint(pairs[p++]!)
      }
    }
    for (let i = from; i < to; i++) w.bytes(v.msg, v.msgStart[i], v.msgEnd[i])
    const payload = w.view()
    const used = payload.length < COMPRESS_FROM ? RAW_CODEC : codec
    // The arena keeps a copy: zlib hands back a view of its output chunk, and `none` a view of the scratch writer.
    const block = new SealedBlock(minTs, maxTs, n, blockArena.place(used.encode(payload, payload.length - text)), used)
    block.size = payload.length
    return block
  }

  view (): BlockView {
    let v = recent.get(this)
    if (v !== undefined) {
      // Most recently used goes last.
      recent.delete(this)
      recent.set(this, v)
      return v
    }
    const data = this.data
    const codec = this.codec
    if (codec.decodeSides !== undefined) {
      const [columns, messages] = codec.decodeSides(data, this.size)
      v = decode(this, columns, this.minTs, messages)
    } else {
      const raw = codec.decode(data, this.size)
      v = decode(this, raw, this.minTs, raw)
    }
    remember(this, v)
    return v
  }
}

/**
 * Decoded views of the blocks read last, per thread, up to RECENT_BYTES: the
 * next page of a query, a refreshed dashboard and a tail read the same
 * blocks again, and decompressing is most of what a query costs.
 */
const RECENT_BYTES = 4 * 1024 * 1024
const recent = new Map<SealedBlock, BlockView>()
let recentBytes = 0

const viewBytes = (v: BlockView): number => v.msg.length + v.n * 24 + v.attrKey.length * 8

function remember (block: SealedBlock, v: BlockView): void {
  recent.set(block, v)
  recentBytes += viewBytes(v)
  while (recentBytes > RECENT_BYTES) {
    const [oldest, old] = recent.entries().next().value as [SealedBlock, BlockView]
    recent.delete(oldest)
    recentBytes -= viewBytes(old)
  }
}

/** Forgets the decoded view of `block`, if it is held. */
function recentDrop (block: SealedBlock): void {
  const v = recent.get(block)
  if (v === undefined) return
  recent.delete(block)
  recentBytes -= viewBytes(v)
}

/**
 * The line levels of the blocks whose levels were asked for last, per
 * thread, up to LEVELS_BYTES (one byte an entry): finding the level words of
 * a line reads all of it, and the explorer's histogram asks for every entry's
 * level on each load, zoom and refresh. A block's levels never change; they go
 * when the block is purged or others need the room.
 */
const LEVELS_BYTES = 4 * 1024 * 1024
const levelCache = new Map<SealedBlock, Uint8Array>()
let levelBytes = 0
const LEVEL_INDEX = new Map<Level, number>(LEVELS.map((l, k) => [l, k]))

function levelsOf (block: SealedBlock, v: BlockView): Uint8Array {
  let levels = levelCache.get(block)
  if (levels !== undefined) {
    levelCache.delete(block)
    levelCache.set(block, levels)
    return levels
  }
  levels = new Uint8Array(v.n)
  for (let i = 0; i < v.n; i++) levels[i] = LEVEL_INDEX.get(lineLevel(v.msg, v.msgStart[i]!, v.msgEnd[i]!))!
  levelCache.set(block, levels)
  levelBytes += levels.length
  while (levelBytes > LEVELS_BYTES) {
    const [oldest, old] = levelCache.entries().next().value as [SealedBlock, Uint8Array]
    levelCache.delete(oldest)
    levelBytes -= old.length
  }
  return levels
}

function levelsDrop (block: SealedBlock): void {
  const levels = levelCache.get(block)
  if (levels === undefined) return
  levelCache.delete(block)
  levelBytes -= levels.length
}

/** Where every block this thread seals lays out its payload before compressing it (encode is synchronous). */
const payloadScratch = new ByteWriter(64 * 1024)

/**
 * The view of a payload: its columns are read from `raw`, its messages from
 * `text` (the same buffer after the columns, or the messages side of a codec
 * that keeps the two apart).
 */
function decode (block: SealedBlock, raw: Buffer, minTs: number, text: Buffer): BlockView {
  const r = new ByteReader(raw)
  const n = r.varint()
  const dictCount = r.varint()
  const dictStart = new Uint32Array(dictCount)
  const dictEnd = new Uint32Array(dictCount)
  for (let d = 0; d < dictCount; d++) {
    const len = r.varint()
    dictStart[d] = r.pos
    dictEnd[d] = r.pos + len
    r.pos += len
  }
  const ts = new Float64Array(n)
  const seq = new Float64Array(n)
  let t = minTs
  let s = 0
  for (let i = 0; i < n; i++) {
    t += r.varint()
    ts[i] = t
    s += r.zigzag()
    seq[i] = s
  }
  const msgStart = new Uint32Array(n)
  const msgEnd = new Uint32Array(n)
  let end = 0
  for (let i = 0; i < n; i++) {
    msgStart[i] = end
    end += r.varint()
    msgEnd[i] = end
  }
  let attrEnd: Uint32Array | null = null
  let attrKey = EMPTY_U32
  let attrVal = EMPTY_U32
  if (raw[r.pos++] === 1) {
    attrEnd = new Uint32Array(n)
    const keys: number[] = []
    const vals: number[] = []
    for (let i = 0; i < n; i++) {
      const count = r.varint()
      for (let p = 0; p < count; p++) {
        keys.push(r.varint())
        vals.push(r.varint())
      }
      attrEnd[i] = keys.length
    }
    attrKey = Uint32Array.from(keys)
    attrVal = Uint32Array.from(vals)
  }
  const at = text === raw ? r.pos : 0
  const msg = text.subarray(at, at + end)
  return new SealedView(block, n, ts, seq, msg, msgStart, msgEnd, attrEnd, attrKey, attrVal, raw, dictStart, dictEnd)
}

/**
 * A decoded sealed block. Its dictionary's strings are made only when asked
 * for (a filter or a label lookup): renderers copy their bytes, so a page of
 * entries with unique attribute values (trace ids) makes no string for them.
 */
class SealedView implements BlockView {
  private strings: string[] | null = null

  constructor (
    private readonly block: SealedBlock,
    readonly n: number,
    readonly ts: Float64Array,
    readonly seq: Float64Array,
    readonly msg: Buffer,
    readonly msgStart: Uint32Array,
    readonly msgEnd: Uint32Array,
    readonly attrEnd: Uint32Array | null,
    readonly attrKey: Uint32Array,
    readonly attrVal: Uint32Array,
    readonly dictBytes: Buffer,
    readonly dictStart: Uint32Array,
    readonly dictEnd: Uint32Array
  ) {}

  private levels: Uint8Array | null = null

  /** Asked for once per view (entry by entry, a caller reads the array it returns). */
  readonly lineLevels = (): Uint8Array => this.levels ?? (this.levels = levelsOf(this.block, this))

  get dict (): readonly string[] {
    if (this.strings === null) {
      const { dictBytes, dictStart, dictEnd } = this
      this.strings = Array.from(dictStart, (from, d) => dictBytes.toString('utf8', from, dictEnd[d]))
    }
    return this.strings
  }
}
