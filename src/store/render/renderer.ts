import { writeDict, type BlockView } from '../block.js'
import type { ByteWriter } from '../bytes.js'
import type { Stream } from '../stream.js'
import { giveBack, takeScratch } from './scratch.js'

/** What a renderer made of a page, until release(): its bytes (a view of the thread's scratch space), where each entry ends, and, for grouped Loki answers, each entry's label set. */
export interface Rendered {
  body: Uint8Array
  ends: readonly number[]
  streams?: { labels: string[], of: readonly number[] }
}

/**
 * Turns the entries a scan finds into the bytes of one output format. The
 * store hands over columns (a block view and an index) and never knows the
 * HTTP shape; each format is one module that implements this.
 */
export interface EntryRenderer {
  /** Appends entry `i` of `view`, which belongs to `stream`. */
  add (stream: Stream, view: BlockView, i: number): void
  /** Bytes rendered so far. */
  readonly bytes: number
  /** The rendered entries, joined by ',': valid until release(), so the caller copies them where the part is made. */
  finish (): Rendered
  /** Gives the scratch space back to the thread (the bytes finish() showed are gone). */
  release (): void
}

/**
 * The shared part of the renderers that write entries joined by a separator
 * into the thread's scratch writer: each add() opens an entry with open(),
 * writes it, and ends it with close().
 */
export abstract class JoinedRenderer implements EntryRenderer {
  protected readonly w = takeScratch()
  private readonly ends: number[] = []

  /** `separator`: the byte between entries, ',' for a JSON array, a newline for lines. */
  constructor (private readonly separator = 44) {}

  get bytes (): number { return this.w.length }

  abstract add (stream: Stream, view: BlockView, i: number): void

  /** Starts an entry (the ',' before all but the first); returns the writer. */
  protected open (): ByteWriter {
    if (this.ends.length > 0) this.w.byte(this.separator)
    return this.w
  }

  protected close (): void {
    this.ends.push(this.w.length)
  }

  finish (): Rendered {
    return { body: this.w.view(), ends: this.ends }
  }

  release (): void {
    giveBack(this.w)
  }
}

const KEY_VALUE = Buffer.from('":"')

/** Attribute pair `p` of `v` as a JSON member (`"k":"v"`): the dictionary holds its strings escaped already. */
export function writeAttrMember (w: ByteWriter, v: BlockView, p: number): void {
  w.byte(34)
  writeDict(w, v, v.attrKey[p]!)
  w.bytes(KEY_VALUE)
  writeDict(w, v, v.attrVal[p]!)
  w.byte(34)
}

/** Attribute pairs [from, to) of `v` as JSON members (`"k":"v","k2":"v2"`). */
export function writeAttrMembers (w: ByteWriter, v: BlockView, from: number, to: number): void {
  for (let p = from; p < to; p++) {
    if (p > from) w.byte(44)
    writeAttrMember(w, v, p)
  }
}
