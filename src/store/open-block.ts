import { jsonEscape } from '../core/json-text.js'
import { BLOCK_BYTES, BLOCK_ENTRIES, EMPTY_U32, type Block, type BlockView, type Pairs } from './block.js'
import { openBlockPool } from './buffer-pool.js'
import { ByteWriter } from './bytes.js'
import type { BlockCodec } from './codec/block-codec.js'
import { SealedBlock } from './sealed-block.js'

/** Estimated bytes of one open-block entry beyond its message bytes: array slots for ts, seq, offsets. */
const OPEN_ENTRY_BYTES = 32
/** Bytes an open block costs before its first entry: the object, its arrays and buffers. */
const OPEN_BLOCK_BYTES = 400

/**
 * An open block holds no string per entry: messages and attribute strings
 * are JSON-escaped and written as bytes when they arrive, and the numbers
 * sit in unboxed arrays. So the strings a request parsed die young, and the
 * garbage collector has almost nothing to trace in an open block. Its
 * buffers come from the thread's pool (buffer-pool.ts) and go back to it when
 * the block is sealed or dropped (release()), so nothing reads them but the
 * block itself: view() copies the message bytes.
 */
export class OpenBlock implements Block {
  private readonly ts: number[] = []
  private readonly seq: number[] = []
  /** Escaped messages in arrival order; entry i ends at msgEnd[i] and starts where entry i - 1 ended. */
  private readonly text = new ByteWriter(1024, openBlockPool)
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
      const w = this.attrText ??= new ByteWriter(1024, openBlockPool)
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
    this.cached ??= this.build(true)
    return this.cached
  }

  /** The view to seal from: no copy of the messages is needed, as sealing reads them at once. */
  private sealView (): BlockView {
    return this.cached ?? this.build(false)
  }

  private build (copy: boolean): BlockView {
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
    // For a scan, a copy: the block's own buffer goes back to the pool when it grows or is sealed, while a scan may still read this view.
    const msg = copy ? this.text.copy() : this.text.view()
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

  /** The sealed block of every entry; this block is then released. */
  seal (codec: BlockCodec): SealedBlock {
    const sealed = SealedBlock.encode(this.sealView(), codec)
    this.release()
    return sealed
  }

  /** Gives the block's buffers back to the pool; the block must not be used after. */
  release (): void {
    this.text.release()
    this.attrText?.release()
    this.cached = null
  }

  /**
   * Seals the oldest `k` entries (by (ts, seq)) and keeps the rest open, so
   * the block keeps taking entries a little late among the newest ones.
   * Returns the sealed block; `bytes` is recounted.
   */
  sealOldest (k: number, codec: BlockCodec): SealedBlock {
    const v = this.sealView()
    const sealed = SealedBlock.encode(v, codec, 0, k)
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
    this.release()
    Object.assign(this, other)
  }
}
