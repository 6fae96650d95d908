// A growable byte buffer with the few writers the block codec and the
// renderers need (varints, raw bytes, UTF-8 text), and the matching reader.
// Varints hold any whole number up to 2^53 (timestamps in µs, sequence
// numbers), so they are built with arithmetic, not 32-bit bit operations.

import type { BufferPool } from './buffer-pool.js'

/** Up to this many bytes, bytes() copies in a loop (cheaper than making views to copy through). */
const SHORT_COPY = 512
const EMPTY = Buffer.alloc(0)

export class ByteWriter {
  buf: Buffer
  length = 0

  /** With a pool, the writer's buffers come from it and go back to it as it grows and when released. */
  constructor (initial = 4096, private readonly pool: BufferPool | null = null) {
    this.buf = pool === null ? Buffer.allocUnsafe(initial) : pool.take(initial)
  }

  /** Makes room for `n` more bytes. */
  reserve (n: number): void {
    const need = this.length + n
    if (need <= this.buf.length) return
    const size = Math.max(need, this.buf.length * 2)
    const bigger = this.pool === null ? Buffer.allocUnsafe(size) : this.pool.take(size)
    this.buf.copy(bigger, 0, 0, this.length)
    this.pool?.give(this.buf)
    this.buf = bigger
  }

  /** Gives a pooled writer's buffer back (no view of it may be read after); the writer is then empty. */
  release (): void {
    this.pool?.give(this.buf)
    this.buf = EMPTY
    this.length = 0
  }

  byte (b: number): void {
    this.reserve(1)
    this.buf[this.length++] = b
  }

  /** An unsigned whole number, 7 bits a byte, low bits first. */
  varint (n: number): void {
    this.reserve(8)
    const buf = this.buf
    let i = this.length
    while (n >= 0x80) {
      buf[i++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    buf[i++] = n
    this.length = i
  }

  /** A whole number from 0 to 2^53 in decimal digits (a timestamp), with no string made. */
  decimal (n: number): void {
    this.reserve(16)
    let digits = 1
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++
    const buf = this.buf
    let at = this.length + digits
    this.length = at
    do {
      buf[--at] = 48 + (n % 10)
      n = Math.floor(n / 10)
    } while (n > 0)
  }

  /** A signed whole number, zigzag-encoded so small negatives stay short. */
  zigzag (n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1)
  }

  bytes (src: Uint8Array, from = 0, to = src.length): void {
    const n = to - from
    this.reserve(n)
    const buf = this.buf
    let at = this.length
    if (n <= SHORT_COPY) {
      // A message or a label: copied in a loop, as set() on a subarray makes two objects per call.
      for (let i = from; i < to; i++) buf[at++] = src[i]!
    } else {
      buf.set(src.subarray(from, to), at)
      at += n
    }
    this.length = at
  }

  /** UTF-8 text; returns the number of bytes written. */
  utf8 (text: string): number {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    this.reserve(text.length * 3)
    const n = this.buf.write(text, this.length, 'utf8')
    this.length += n
    return n
  }

  /** An unsigned 32-bit number, little-endian, 4 bytes. */
  u32 (n: number): void {
    this.reserve(4)
    this.buf.writeUInt32LE(n, this.length)
    this.length += 4
  }

  /** UTF-8 text preceded by its byte length as a u32 (written after the text, so the text is encoded once). */
  str (text: string): void {
    this.reserve(4 + text.length * 3)
    const at = this.length
    const n = this.buf.write(text, at + 4, 'utf8')
    this.buf.writeUInt32LE(n, at)
    this.length = at + 4 + n
  }

  /** Latin-1 text the caller knows to be ASCII. */
  ascii (text: string): void {
    this.reserve(text.length)
    this.length += this.buf.write(text, this.length, 'latin1')
  }

  /** The bytes written, as a view of the internal buffer (valid until the next write). */
  view (): Buffer {
    return this.buf.subarray(0, this.length)
  }

  /** A copy of the bytes written, in memory of its own. */
  copy (): Buffer {
    const out = Buffer.allocUnsafeSlow(this.length)
    this.buf.copy(out, 0, 0, this.length)
    return out
  }
}

export class ByteReader {
  pos = 0
  private readonly text: Buffer
  constructor (readonly buf: Uint8Array) {
    this.text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  /** Bytes left to read. */
  get left (): number { return this.buf.length - this.pos }

  byte (): number {
    const b = this.buf[this.pos++]
    if (b === undefined) throw new RangeError('byte read past the end of the data')
    return b
  }

  u32 (): number {
    const buf = this.buf
    if (this.pos + 4 > buf.length) throw new RangeError('u32 read past the end of the data')
    const n = (buf[this.pos]! | (buf[this.pos + 1]! << 8) | (buf[this.pos + 2]! << 16)) + buf[this.pos + 3]! * 0x1000000
    this.pos += 4
    return n
  }

  /** Text written by ByteWriter.str. */
  str (): string {
    const len = this.u32()
    if (this.pos + len > this.buf.length) throw new RangeError('text runs past the end of the data')
    const text = this.text.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return text
  }

  varint (): number {
    const buf = this.buf
    let n = 0
    let scale = 1
    for (;;) {
      const b = buf[this.pos++]
      if (b === undefined) throw new RangeError('varint runs past the end of the block')
      n += (b & 0x7f) * scale
      if (b < 0x80) return n
      scale *= 0x80
    }
  }

  zigzag (): number {
    const z = this.varint()
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2
  }
}
