import { jsonEscape, jsonString } from '../core/json-text.js'
import { BLOCK_BYTES, BLOCK_ENTRIES, type Block, type Pairs } from './block.js'
import type { BlockCodec } from './codec/block-codec.js'
import { OpenBlock } from './open-block.js'
import type { SealedBlock } from './sealed-block.js'
import { serviceOfStored, tenantOfStored } from '../tenants/tenant-id.js'

// A stream is one service and its stream labels (Loki's model). Its entries
// are split by time into slots of SLOT_US, so that a block never spans more
// than one slot, a query over all streams only looks at the streams active
// in the slots it reads, and purge drops whole slots.
//
//   Stream ── slots[] ──► StreamSlot { chain: sealed blocks in order, then the open head
//                                      late:  sealed late blocks, then the open late block }
//
// The head takes every entry at or after the end of the sealed chain, in any
// order (it is sorted when sealed or read), so chain blocks never overlap.
// When it holds two blocks' worth it seals its older half, so the newest
// block's worth stays open and entries a little late still land in order.
// An entry older than the chain's end (a late arrival) goes to the late
// block instead; late blocks may overlap anything and the scan merges them in.

/** Length of a time slot, µs. */
export const SLOT_US = 5 * 60 * 1_000_000

/** Bytes a stream and a stream-slot cost beyond their blocks (objects, maps, arrays). */
export const STREAM_BYTES = 640
export const STREAM_SLOT_BYTES = 200

/** The label a query across tenants adds to its answers (Loki's), and that a selector may match on. */
export const TENANT_LABEL = '__tenant_id__'

export const slotOf = (ts: number): number => Math.floor(ts / SLOT_US)

export class Stream {
  readonly slots: StreamSlot[] = []
  entries = 0
  /** Its tenant (tenants/tenant-id.ts), and its service as senders named it: `service` is the stored name, the tenant's prefix included. */
  readonly tenant: string
  readonly name: string
  /** The service name as UTF-8 bytes, and as a JSON string literal's bytes (what renderers copy). */
  readonly serviceBytes: Buffer
  readonly serviceJsonBytes: Buffer
  /** The labels as JSON members' bytes (`"k":"v","k2":"v2"`), empty when there are none. */
  readonly labelsJsonBytes: Buffer
  /** The label names, JSON-escaped as block dictionaries hold attribute keys; null when there are none. */
  readonly labelKeysJson: ReadonlySet<string> | null

  /** `service` is the stored service name (the tenant's prefix, then the service); `codec` seals this stream's blocks (BLOCK_CODEC). */
  constructor (readonly key: string, readonly service: string, readonly labels: Pairs, readonly codec: BlockCodec) {
    const members: string[] = []
    for (let i = 0; i < labels.length; i += 2) members.push(`${jsonString(labels[i]!)}:${jsonString(labels[i + 1]!)}`)
    this.tenant = tenantOfStored(service)
    this.name = serviceOfStored(service)
    this.serviceBytes = Buffer.from(this.name)
    this.serviceJsonBytes = Buffer.from(jsonString(this.name))
    this.labelsJsonBytes = Buffer.from(members.join(','))
    this.labelKeysJson = labels.length === 0 ? null : new Set(labels.filter((_, i) => i % 2 === 0).map(jsonEscape))
  }

  get bytes (): number { return STREAM_BYTES + 2 * this.key.length }

  /** The value of label `name`, or undefined. */
  label (name: string): string | undefined {
    for (let i = 0; i < this.labels.length; i += 2) if (this.labels[i] === name) return this.labels[i + 1]
    return undefined
  }

  /** What a LogQL matcher sees of this stream: `service` is its service, `__tenant_id__` its tenant, any other name a label ('' when absent). */
  labelValue (name: string): string {
    if (name === 'service') return this.name
    if (name === TENANT_LABEL) return this.tenant
    return this.label(name) ?? ''
  }

  /** The stream-slot for slot `id`, or undefined. */
  at (id: number): StreamSlot | undefined {
    const slots = this.slots
    // Nearly always the last one or close to it.
    for (let i = slots.length - 1; i >= 0; i--) {
      const s = slots[i]!
      if (s.slot === id) return s
      if (s.slot < id) return undefined
    }
    return undefined
  }

  /** The stream-slot for slot `id`, and whether it is new. */
  atOrNew (id: number): [StreamSlot, boolean] {
    const slots = this.slots
    let i = slots.length
    while (i > 0 && slots[i - 1]!.slot > id) i--
    const prev = slots[i - 1]
    if (prev !== undefined && prev.slot === id) return [prev, false]
    const made = new StreamSlot(this, id)
    slots.splice(i, 0, made)
    return [made, true]
  }

  get oldest (): number {
    let min = Infinity
    const first = this.slots[0]
    if (first !== undefined) for (const b of first.blocks()) if (b.minTs < min) min = b.minTs
    return min
  }

  get newest (): number {
    let max = -Infinity
    const last = this.slots[this.slots.length - 1]
    if (last !== undefined) for (const b of last.blocks()) if (b.maxTs > max) max = b.maxTs
    return max
  }
}

export class StreamSlot {
  /** Sealed blocks in time order, not overlapping; replaced, never spliced, so a scan may keep the array it read. */
  chain: SealedBlock[] = []
  chainMaxTs = -Infinity
  head: OpenBlock | null = null
  late: SealedBlock[] = []
  lateOpen: OpenBlock | null = null
  entries = 0

  constructor (readonly stream: Stream, readonly slot: number) {}

  /** Stores one entry; returns the bytes it added. */
  add (ts: number, seq: number, msg: string, attrs: Pairs | null, now: number): number {
    this.entries++
    if (ts >= this.chainMaxTs) {
      this.head ??= new OpenBlock()
      const head = this.head
      const bytes = head.add(ts, seq, msg, attrs, now)
      return head.n >= 2 * BLOCK_ENTRIES || head.textBytes >= 2 * BLOCK_BYTES ? bytes + this.sealHeadHalf() : bytes
    }
    this.lateOpen ??= new OpenBlock()
    const bytes = this.lateOpen.add(ts, seq, msg, attrs, now)
    return this.lateOpen.full ? bytes + this.sealLate() : bytes
  }

  /** Seals the older half of the head; returns the change in bytes held. */
  private sealHeadHalf (): number {
    const head = this.head!
    const before = head.bytes
    const sealed = head.sealOldest(head.n >> 1, this.stream.codec)
    this.chain.push(sealed)
    this.chainMaxTs = sealed.maxTs
    return sealed.bytes + head.bytes - before
  }

  /** Seals the head; returns the change in bytes held. */
  sealHead (): number {
    const head = this.head
    if (head === null) return 0
    this.head = null
    const sealed = head.seal(this.stream.codec)
    this.chain.push(sealed)
    this.chainMaxTs = sealed.maxTs
    return sealed.bytes - head.bytes
  }

  sealLate (): number {
    const open = this.lateOpen
    if (open === null) return 0
    this.lateOpen = null
    const sealed = open.seal(this.stream.codec)
    this.late.push(sealed)
    return sealed.bytes - open.bytes
  }

  /** Adds a block read back from a block file, to the chain when it follows it, else among the late ones. */
  load (block: SealedBlock, late: boolean): void {
    if (!late && this.head === null && block.minTs >= this.chainMaxTs) {
      this.chain.push(block)
      this.chainMaxTs = block.maxTs
    } else {
      this.late.push(block)
    }
    this.entries += block.n
  }

  get hasOpen (): boolean { return this.head !== null || this.lateOpen !== null }

  /** Every block, sealed and open. */
  * blocks (): Generator<Block> {
    yield * this.chain
    if (this.head !== null) yield this.head
    yield * this.late
    if (this.lateOpen !== null) yield this.lateOpen
  }

  get bytes (): number {
    let n = STREAM_SLOT_BYTES
    for (const b of this.blocks()) n += b.bytes
    return n
  }

  /**
   * Drops every block whose entries are all older than `cutoff` (whole
   * blocks only); returns the entries and bytes dropped.
   */
  purge (cutoff: number): { entries: number, bytes: number } {
    let entries = 0
    let bytes = 0
    let k = 0
    while (k < this.chain.length && this.chain[k]!.maxTs < cutoff) {
      const b = this.chain[k]!
      entries += b.n
      bytes += b.bytes
      b.drop()
      k++
    }
    if (k > 0) this.chain = this.chain.slice(k)
    if (this.late.some((b) => b.maxTs < cutoff)) {
      const keep: SealedBlock[] = []
      for (const b of this.late) {
        if (b.maxTs < cutoff) {
          entries += b.n
          bytes += b.bytes
          b.drop()
        } else {
          keep.push(b)
        }
      }
      this.late = keep
    }
    if (this.head !== null && this.head.maxTs < cutoff) {
      entries += this.head.n
      bytes += this.head.bytes
      this.head.release()
      this.head = null
    }
    if (this.lateOpen !== null && this.lateOpen.maxTs < cutoff) {
      entries += this.lateOpen.n
      bytes += this.lateOpen.bytes
      this.lateOpen.release()
      this.lateOpen = null
    }
    this.entries -= entries
    return { entries, bytes }
  }
}
