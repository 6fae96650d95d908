import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import type { Pairs } from '../block.js'
import { ByteReader, ByteWriter } from '../bytes.js'
import type { BlockCodec } from '../codec/block-codec.js'
import { codecById, RAW_CODEC, V1_COMPRESSED_CODEC } from '../codec/registry.js'

// A block file holds sealed blocks (their encoded bytes, as they sit in
// memory) with an index in front, so a start-up can read the index alone and
// leave the blocks on disk until a query wants them.
//
//   file   = "LGBLOCK2" | u32 indexLength | u32 crc32(index) | index | data of block 0 | data of block 1 | ...
//   index  = count | { service, labelCount, label*, slot, flags, codec, zigzag(minTs), zigzag(maxTs), n, dataLength, u32 crc32(data) }*
//   flags  = 1: a late block (may overlap others)
//   codec  = the id of the codec that encoded the data (codec/registry.ts)
//
// The codec is named per block, as Loki names a chunk's encoding per chunk:
// one file already mixes codecs (blocks under 256 bytes are kept raw next to
// compressed ones), and a byte per block of some thousand entries is nothing.
// LGBLOCK1 files (before codec ids) have no codec byte and flag 2 for
// "brotli-compressed", which was always brotli-1; they are read as such.

const MAGIC = Buffer.from('LGBLOCK2', 'latin1')
const MAGIC_V1 = Buffer.from('LGBLOCK1', 'latin1')
const HEADER = 16
const LATE = 1
/** LGBLOCK1 only: the data is brotli-1. */
const V1_COMPRESSED = 2

/** A block as it goes into a file. */
export interface StoredBlock {
  service: string
  labels: Pairs
  slot: number
  late: boolean
  minTs: number
  maxTs: number
  n: number
  /** The codec that encoded `data`. */
  codec: BlockCodec
  data: Buffer
}

/** A block as its file's index describes it: where its data is and how to check it. */
export interface IndexedBlock extends Omit<StoredBlock, 'data'> {
  offset: number
  length: number
  crc: number
}

/**
 * The file's bytes as a list of buffers to write in order (the block data is
 * not copied), and where each block will sit in it.
 */
export function encodeBlockFile (blocks: readonly StoredBlock[]): { chunks: Buffer[], index: IndexedBlock[] } {
  const w = new ByteWriter(256 + blocks.length * 64)
  w.varint(blocks.length)
  const crcs: number[] = []
  for (const b of blocks) {
    const crc = crc32(b.data)
    crcs.push(crc)
    w.str(b.service)
    w.varint(b.labels.length)
    for (const s of b.labels) w.str(s)
    w.varint(b.slot)
    w.byte(b.late ? LATE : 0)
    w.byte(b.codec.id)
    w.zigzag(b.minTs)
    w.zigzag(b.maxTs)
    w.varint(b.n)
    w.varint(b.data.length)
    w.u32(crc)
  }
  const bytes = w.view()
  const header = Buffer.allocUnsafe(HEADER)
  MAGIC.copy(header, 0)
  header.writeUInt32LE(bytes.length, 8)
  header.writeUInt32LE(crc32(bytes), 12)
  let offset = HEADER + bytes.length
  const index = blocks.map(({ data, ...meta }, i) => {
    const at = { ...meta, offset, length: data.length, crc: crcs[i]! }
    offset += data.length
    return at
  })
  return { chunks: [header, w.copy(), ...blocks.map((b) => b.data)], index }
}

export class BlockFileError extends Error {
  override name = 'BlockFileError'
}

/** Reads a block file's index (not its data); throws BlockFileError when the file is not a whole, intact one. */
export function readBlockIndex (path: string): { blocks: IndexedBlock[], size: number } {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const header = Buffer.alloc(HEADER)
    if (readSync(fd, header, 0, HEADER, 0) < HEADER) throw new BlockFileError('not a block file (bad header)')
    const magic = header.subarray(0, 8)
    const v1 = magic.equals(MAGIC_V1)
    if (!v1 && !magic.equals(MAGIC)) throw new BlockFileError('not a block file (bad header)')
    const indexLength = header.readUInt32LE(8)
    if (HEADER + indexLength > size) throw new BlockFileError(`the index runs past the end of the file (${indexLength} bytes announced, file of ${size})`)
    const index = Buffer.allocUnsafe(indexLength)
    if (readSync(fd, index, 0, indexLength, HEADER) < indexLength) throw new BlockFileError('the index could not be read whole')
    if (crc32(index) !== header.readUInt32LE(12)) throw new BlockFileError('the index checksum does not match')
    const blocks = parseIndex(index, HEADER + indexLength, v1)
    const last = blocks[blocks.length - 1]
    const end = last === undefined ? HEADER + indexLength : last.offset + last.length
    if (end > size) throw new BlockFileError(`the block data runs past the end of the file (${end} bytes needed, file of ${size})`)
    return { blocks, size }
  } catch (err) {
    if (err instanceof RangeError) throw new BlockFileError(`the index cannot be read (${err.message})`)
    throw err
  } finally {
    closeSync(fd)
  }
}

function parseIndex (index: Buffer, dataStart: number, v1: boolean): IndexedBlock[] {
  const r = new ByteReader(index)
  const count = r.varint()
  const blocks: IndexedBlock[] = []
  let offset = dataStart
  for (let i = 0; i < count; i++) {
    const service = r.str()
    const nLabels = r.varint()
    const labels: string[] = []
    for (let k = 0; k < nLabels; k++) labels.push(r.str())
    const slot = r.varint()
    const flags = r.byte()
    const codec = v1 ? ((flags & V1_COMPRESSED) !== 0 ? V1_COMPRESSED_CODEC : RAW_CODEC) : codecOf(r.byte(), i)
    const minTs = r.zigzag()
    const maxTs = r.zigzag()
    const n = r.varint()
    const length = r.varint()
    const crc = r.u32()
    blocks.push({ service, labels, slot, late: (flags & LATE) !== 0, codec, minTs, maxTs, n, offset, length, crc })
    offset += length
  }
  if (r.left !== 0) throw new BlockFileError(`${r.left} bytes after the index's last block`)
  return blocks
}

function codecOf (id: number, block: number): BlockCodec {
  const codec = codecById(id)
  if (codec === undefined) throw new BlockFileError(`block ${block} was written with codec id ${id}, which this build does not know (a newer logagg wrote it?): run a version that has that codec, with this file renamed back`)
  return codec
}

/** Reads one block's data from an open file and checks it; throws BlockFileError when it does not match. */
export function readBlockData (fd: number, offset: number, length: number, crc: number): Buffer {
  const data = Buffer.allocUnsafeSlow(length)
  let done = 0
  while (done < length) {
    const n = readSync(fd, data, done, length - done, offset + done)
    if (n === 0) throw new BlockFileError(`block data at ${offset} cut short (${done} of ${length} bytes)`)
    done += n
  }
  if (crc32(data) !== crc) throw new BlockFileError(`block data at ${offset} does not match its checksum`)
  return data
}
