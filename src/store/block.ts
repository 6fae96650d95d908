import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib'
import { jsonEscape } from '../json-text.js'
import { ByteReader, ByteWriter } from './bytes.js'

// A stream's entries live in blocks. An open block takes appends in any
// order (sorted when read); once full or idle it is sealed:
// sorted by (ts, seq), laid out in columns, and compressed.
//
//   sealed block = { minTs, maxTs, n, data }     data = brotli(payload)
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
/** Payloads smaller than this are kept uncompressed: brotli would not save enough to pay for itself. */
const COMPRESS_FROM = 256

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
}

export interface Block {
  readonly minTs: number
  readonly maxTs: number
  readonly n: number
  /** Bytes this block holds in memory (estimated for open blocks). */
  readonly bytes: number
  view (): BlockView
}

const EMPTY_U32 = new Uint32Array(0)

/** Estimated bytes of one open-block entry beyond its message bytes: array slots for ts, seq, offsets. */
const OPEN_ENTRY_BYTES = 32
/** Bytes an open block costs before its first entry: the object, its arrays and buffers. */
const OPEN_BLOCK_BYTES = 400

/**
 * An open block holds no string per entry: messages and attribute strings
 * are JSON-escaped and written as bytes when they arrive, and the numbers
 * sit in unboxed arrays. So the strings a request parsed die young, and the
 * garbage collector has almost nothing to trace in an open block.
 */
export class OpenBlock implements Block {
  private readonly ts: number[] = []
  private readonly seq: number[] = []
  /** Escaped messages in arrival order; entry i ends at msgEnd[i] and starts where entry i - 1 ended. */
  private readonly text = new ByteWriter(1024)
  private readonly msgEnd: number[] = []
  /** Escaped attribute strings; string j ends at strEnd[j]. Entry i owns pairs [pairEnd[i - 1], pairEnd[i]). */
  private attrText: ByteWriter | null = null
  private readonly strEnd: number[] = []
  private readonly pairEnd: number[] = []
  minTs = Infinity
  maxTs = -Infinity
  bytes = 0
  /** Date.now() of the last append, for sealing idle blocks. */
  touched = 0
  private cached: BlockView | null = null

  get n (): number { return this.ts.length }

  get full (): boolean { return this.ts.length >= BLOCK_ENTRIES || this.text.length >= BLOCK_BYTES }

  /** Bytes of message text held. */
  get textBytes (): number { return this.text.length }

  /** Appends an entry; returns the bytes it added. */
  add (ts: number, seq: number, msg: string, attrs: Pairs | null, now: number): number {
    const len = this.text.utf8(jsonEscape(msg))
    return this.record(ts, seq, len, attrs === null ? null : attrs.map(jsonEscape), now)
  }

  /** Appends an entry whose message (msg[from, to)) and attribute strings are already escaped. */
  private addEscaped (ts: number, seq: number, msg: Buffer, from: number, to: number, attrs: Pairs | null, now: number): number {
    this.text.bytes(msg, from, to)
    return this.record(ts, seq, to - from, attrs, now)
  }

  /** Records an entry whose message bytes were just written; returns the bytes it added. */
  private record (ts: number, seq: number, msgBytes: number, escapedAttrs: Pairs | null, now: number): number {
    this.ts.push(ts)
    this.seq.push(seq)
    this.msgEnd.push(this.text.length)
    let bytes = (this.ts.length === 1 ? OPEN_BLOCK_BYTES : 0) + OPEN_ENTRY_BYTES + msgBytes
    if (escapedAttrs !== null) {
      const w = this.attrText ??= new ByteWriter(1024)
      for (const s of escapedAttrs) {
        bytes += 4 + w.utf8(s)
        this.strEnd.push(w.length)
      }
      // Entries before the first with attributes own none.
      while (this.pairEnd.length < this.ts.length - 1) this.pairEnd.push(this.pairEnd[this.pairEnd.length - 1] ?? 0)
      this.pairEnd.push(this.strEnd.length / 2)
    } else if (this.attrText !== null) {
      this.pairEnd.push(this.pairEnd[this.pairEnd.length - 1] ?? 0)
    }
    if (ts < this.minTs) this.minTs = ts
    if (ts > this.maxTs) this.maxTs = ts
    this.bytes += bytes
    this.touched = now
    this.cached = null
    return bytes
  }

  view (): BlockView {
    this.cached ??= this.build()
    return this.cached
  }

  private build (): BlockView {
    const { ts, seq, msgEnd } = this
    const n = ts.length
    const order = Array.from({ length: n }, (_, i) => i)
    // Appends come nearly in order, which TimSort handles in close to linear time.
    order.sort((a, b) => (ts[a]! - ts[b]!) || (seq[a]! - seq[b]!))
    const tsOut = new Float64Array(n)
    const seqOut = new Float64Array(n)
    const start = new Uint32Array(n)
    const end = new Uint32Array(n)
    for (let k = 0; k < n; k++) {
      const i = order[k]!
      tsOut[k] = ts[i]!
      seqOut[k] = seq[i]!
      start[k] = i === 0 ? 0 : msgEnd[i - 1]!
      end[k] = msgEnd[i]!
    }
    const msg = this.text.view()
    const base = { n, ts: tsOut, seq: seqOut, msg, msgStart: start, msgEnd: end }
    const w = this.attrText
    if (w === null) return { ...base, attrEnd: null, attrKey: EMPTY_U32, attrVal: EMPTY_U32, dict: [] }

    const ids = new Map<string, number>()
    const dict: string[] = []
    const strings = w.view()
    const id = (j: number): number => {
      const s = strings.toString('utf8', j === 0 ? 0 : this.strEnd[j - 1]!, this.strEnd[j]!)
      let v = ids.get(s)
      if (v === undefined) {
        v = dict.length
        dict.push(s)
        ids.set(s, v)
      }
      return v
    }
    const attrEnd = new Uint32Array(n)
    const keys: number[] = []
    const vals: number[] = []
    for (let k = 0; k < n; k++) {
      const i = order[k]!
      for (let p = i === 0 ? 0 : this.pairEnd[i - 1]!; p < (this.pairEnd[i] ?? 0); p++) {
        keys.push(id(2 * p))
        vals.push(id(2 * p + 1))
      }
      attrEnd[k] = keys.length
    }
    return { ...base, attrEnd, attrKey: Uint32Array.from(keys), attrVal: Uint32Array.from(vals), dict }
  }

  seal (): SealedBlock {
    return SealedBlock.encode(this.view())
  }

  /**
   * Seals the oldest `k` entries (by (ts, seq)) and keeps the rest open, so
   * the block keeps taking entries a little late among the newest ones.
   * Returns the sealed block; `bytes` is recounted.
   */
  sealOldest (k: number): SealedBlock {
    const v = this.view()
    const sealed = SealedBlock.encode(v, 0, k)
    const keep = new OpenBlock()
    for (let i = k; i < v.n; i++) {
      let attrs: Pairs | null = null
      if (v.attrEnd !== null) {
        for (let p = i === 0 ? 0 : v.attrEnd[i - 1]!; p < v.attrEnd[i]!; p++) (attrs ??= []).push(v.dict[v.attrKey[p]!]!, v.dict[v.attrVal[p]!]!)
      }
      keep.addEscaped(v.ts[i]!, v.seq[i]!, v.msg, v.msgStart[i]!, v.msgEnd[i]!, attrs, this.touched)
    }
    this.adopt(keep)
    return sealed
  }

  /** Takes over the state of `other` (a block built from this one's newest entries). */
  private adopt (other: OpenBlock): void {
    Object.assign(this, other)
  }
}

/** Bytes a sealed block costs beyond its data: the object, the Buffer, its backing store. */
const SEALED_OVERHEAD_BYTES = 160

export class SealedBlock implements Block {
  private constructor (
    readonly minTs: number,
    readonly maxTs: number,
    readonly n: number,
    /** The payload, brotli-compressed unless `compressed` is false. */
    readonly data: Buffer,
    readonly compressed: boolean
  ) {}

  get bytes (): number { return this.data.length + SEALED_OVERHEAD_BYTES }

  /** Seals entries [from, to) of a sorted view. */
  static encode (v: BlockView, from = 0, to = v.n): SealedBlock {
    const n = to - from
    const minTs = v.ts[from]!
    const maxTs = v.ts[to - 1]!
    let text = 0
    for (let i = from; i < to; i++) text += v.msgEnd[i]! - v.msgStart[i]!
    const w = new ByteWriter(text + n * 8 + 64)
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
    if (payload.length < COMPRESS_FROM) return new SealedBlock(minTs, maxTs, n, w.copy(), false)
    const data = brotliCompressSync(payload, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: 1,
        [zlib.BROTLI_PARAM_LGWIN]: 16,
        [zlib.BROTLI_PARAM_SIZE_HINT]: payload.length
      }
    })
    return new SealedBlock(minTs, maxTs, n, data, true)
  }

  view (): BlockView {
    let v = recent.get(this)
    if (v !== undefined) {
      // Most recently used goes last.
      recent.delete(this)
      recent.set(this, v)
      return v
    }
    const raw = this.compressed ? brotliDecompressSync(this.data) : this.data
    v = decode(raw, this.minTs)
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

function decode (raw: Buffer, minTs: number): BlockView {
  const r = new ByteReader(raw)
  const n = r.varint()
  const dictCount = r.varint()
  const dict: string[] = new Array<string>(dictCount)
  for (let d = 0; d < dictCount; d++) {
    const len = r.varint()
    dict[d] = raw.toString('utf8', r.pos, r.pos + len)
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
  const msg = raw.subarray(r.pos, r.pos + end)
  return { n, ts, seq, msg, msgStart, msgEnd, attrEnd, attrKey, attrVal, dict }
}
