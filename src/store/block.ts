import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib'
import { jsonEscape } from '../json-text.js'
import { ByteReader, ByteWriter } from './bytes.js'

// A stream's entries live in blocks. An open block takes appends in any
// order (plain arrays, sorted when read); once full or idle it is sealed:
// sorted by (ts, seq), laid out in columns, and compressed.
//
//   sealed block = { minTs, maxTs, n, data }     data = brotli(payload)
//   payload:  n | dict (escaped strings) | ts deltas | seq deltas (zigzag)
//             | message lengths | attribute pairs (dict ids) | message bytes
//
// Messages and attribute strings are kept JSON-escaped, so a query copies
// them into its answer without escaping them again. Both kinds of block
// give a scan the same sorted, columnar BlockView.

/** Entries per block at most. */
export const BLOCK_ENTRIES = 1024
/** Message characters per open block at most, so a block of long lines seals early. */
export const BLOCK_CHARS = 256 * 1024
/** Payloads smaller than this are kept uncompressed: brotli would not save enough to pay for itself. */
const COMPRESS_FROM = 256

/** Flat attribute pairs [k0, v0, k1, v1, ...]. */
export type Pairs = string[]

/** What a scan reads from a block: its entries sorted by (ts, seq), in columns. */
export interface BlockView {
  readonly n: number
  readonly ts: Float64Array
  readonly seq: Float64Array
  /** JSON-escaped UTF-8 messages; entry i is msg[i === 0 ? 0 : msgEnd[i - 1], msgEnd[i]). */
  readonly msg: Buffer
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

/** Builds a BlockView from entries in any order. */
function buildView (ts: readonly number[], seq: readonly number[], msg: readonly string[], attrs: ReadonlyArray<Pairs | null>): BlockView {
  const n = ts.length
  const order = Array.from({ length: n }, (_, i) => i)
  // Appends come nearly in order, which TimSort handles in close to linear time.
  order.sort((a, b) => (ts[a]! - ts[b]!) || (seq[a]! - seq[b]!))
  const tsOut = new Float64Array(n)
  const seqOut = new Float64Array(n)
  const msgEnd = new Uint32Array(n)
  const w = new ByteWriter(n * 128)
  let anyAttrs = false
  for (let k = 0; k < n; k++) {
    const i = order[k]!
    tsOut[k] = ts[i]!
    seqOut[k] = seq[i]!
    w.utf8(jsonEscape(msg[i]!))
    msgEnd[k] = w.length
    if (attrs[i] !== null) anyAttrs = true
  }
  if (!anyAttrs) return { n, ts: tsOut, seq: seqOut, msg: w.copy(), msgEnd, attrEnd: null, attrKey: EMPTY_U32, attrVal: EMPTY_U32, dict: [] }

  const ids = new Map<string, number>()
  const dict: string[] = []
  const id = (s: string): number => {
    const e = jsonEscape(s)
    let v = ids.get(e)
    if (v === undefined) {
      v = dict.length
      dict.push(e)
      ids.set(e, v)
    }
    return v
  }
  const attrEnd = new Uint32Array(n)
  const keys: number[] = []
  const vals: number[] = []
  for (let k = 0; k < n; k++) {
    const pairs = attrs[order[k]!]
    if (pairs != null) {
      for (let p = 0; p < pairs.length; p += 2) {
        keys.push(id(pairs[p]!))
        vals.push(id(pairs[p + 1]!))
      }
    }
    attrEnd[k] = keys.length
  }
  return { n, ts: tsOut, seq: seqOut, msg: w.copy(), msgEnd, attrEnd, attrKey: Uint32Array.from(keys), attrVal: Uint32Array.from(vals), dict }
}

/** Estimated heap bytes of one open-block entry beyond its message: array slots, doubles, string header. */
const OPEN_ENTRY_BYTES = 64

export class OpenBlock implements Block {
  readonly ts: number[] = []
  readonly seq: number[] = []
  readonly msg: string[] = []
  readonly attrs: Array<Pairs | null> = []
  minTs = Infinity
  maxTs = -Infinity
  chars = 0
  bytes = 0
  /** Date.now() of the last append, for sealing idle blocks. */
  touched = 0
  private cached: BlockView | null = null

  get n (): number { return this.ts.length }

  get full (): boolean { return this.ts.length >= BLOCK_ENTRIES || this.chars >= BLOCK_CHARS }

  add (ts: number, seq: number, msg: string, attrs: Pairs | null, now: number): number {
    this.ts.push(ts)
    this.seq.push(seq)
    this.msg.push(msg)
    this.attrs.push(attrs)
    if (ts < this.minTs) this.minTs = ts
    if (ts > this.maxTs) this.maxTs = ts
    this.chars += msg.length
    let bytes = OPEN_ENTRY_BYTES + msg.length
    if (attrs !== null) for (const s of attrs) bytes += 16 + s.length
    this.bytes += bytes
    this.touched = now
    this.cached = null
    return bytes
  }

  view (): BlockView {
    this.cached ??= buildView(this.ts, this.seq, this.msg, this.attrs)
    return this.cached
  }

  seal (): SealedBlock {
    return SealedBlock.encode(this.view(), this.minTs, this.maxTs)
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

  static encode (v: BlockView, minTs: number, maxTs: number): SealedBlock {
    const { n } = v
    const w = new ByteWriter(v.msg.length + n * 8 + 64)
    w.varint(n)
    w.varint(v.dict.length)
    for (const s of v.dict) {
      w.varint(Buffer.byteLength(s))
      w.utf8(s)
    }
    let prevTs = minTs
    let prevSeq = 0
    for (let i = 0; i < n; i++) {
      w.varint(v.ts[i]! - prevTs)
      prevTs = v.ts[i]!
      w.zigzag(v.seq[i]! - prevSeq)
      prevSeq = v.seq[i]!
    }
    let prevEnd = 0
    for (let i = 0; i < n; i++) {
      w.varint(v.msgEnd[i]! - prevEnd)
      prevEnd = v.msgEnd[i]!
    }
    if (v.attrEnd === null) {
      w.byte(0)
    } else {
      w.byte(1)
      let prev = 0
      for (let i = 0; i < n; i++) {
        const end = v.attrEnd[i]!
        w.varint(end - prev)
        for (let p = prev; p < end; p++) {
          w.varint(v.attrKey[p]!)
          w.varint(v.attrVal[p]!)
        }
        prev = end
      }
    }
    w.bytes(v.msg)
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
    const raw = this.compressed ? brotliDecompressSync(this.data) : this.data
    return decode(raw, this.minTs)
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
  const msgEnd = new Uint32Array(n)
  let end = 0
  for (let i = 0; i < n; i++) {
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
  return { n, ts, seq, msg, msgEnd, attrEnd, attrKey, attrVal, dict }
}
