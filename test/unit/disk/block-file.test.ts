import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { BlockCodec } from '../../../src/store/codec/block-codec.js'
import { codecByName } from '../../../src/store/codec/registry.js'
import { BlockFileError, encodeBlockFile, readBlockData, readBlockIndex, type StoredBlock } from '../../../src/store/disk/block-file.js'
import { writeFileAtomic } from '../../../src/store/disk/files.js'
import { SealedBlock } from '../../../src/store/sealed-block.js'

let dir = ''
afterEach(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })

const codec = (name: string): BlockCodec => codecByName(name)!

const blocks: StoredBlock[] = [
  { service: 'api', labels: [], slot: 7, late: false, minTs: 10, maxTs: 20, n: 3, codec: codec('brotli-1'), data: Buffer.from('first block bytes') },
  { service: 'web', labels: ['env', 'prod'], slot: 7, late: true, minTs: -5, maxTs: 15, n: 1, codec: codec('none'), data: Buffer.from('second') },
  { service: 'db', labels: [], slot: 7, late: false, minTs: 30, maxTs: 40, n: 2, codec: codec('deflate-1'), data: Buffer.from('third') }
]

async function written (list = blocks): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'logagg-blocks-'))
  const path = join(dir, 's7-c1.blk')
  await writeFileAtomic(path, encodeBlockFile(list).chunks)
  return path
}

/** A shard folder written by the server before block files named codecs (test/fixtures/v1-block-file/make.ts). */
const V1_FILE = fileURLToPath(new URL('../../fixtures/v1-block-file/shard-0/blocks/s5785632-c1.blk', import.meta.url))

describe('block files', () => {
  it('read back each block: its stream, slot, kind, bounds, and data at the offset the writer announced', async () => {
    const path = await written()
    const { index } = encodeBlockFile(blocks)
    const read = readBlockIndex(path)
    expect(read.blocks).toEqual(index)
    expect(read.size).toBe(readFileSync(path).length)
    const fd = openSync(path, 'r')
    try {
      read.blocks.forEach((b, i) => {
        expect(b).toMatchObject({ service: blocks[i]!.service, labels: blocks[i]!.labels, slot: 7, late: blocks[i]!.late, minTs: blocks[i]!.minTs, maxTs: blocks[i]!.maxTs, n: blocks[i]!.n, codec: blocks[i]!.codec })
        expect(readBlockData(fd, b.offset, b.length, b.crc).equals(blocks[i]!.data)).toBe(true)
      })
    } finally {
      closeSync(fd)
    }
  })

  it('refuse a file cut short or with a damaged index, and a block whose data changed', async () => {
    const path = await written()
    const bytes = readFileSync(path)
    const { index } = encodeBlockFile(blocks)
    writeFileSync(path, bytes.subarray(0, bytes.length - 2))
    expect(() => readBlockIndex(path)).toThrow(BlockFileError)
    const flipped = Buffer.from(bytes)
    flipped[20] = flipped[20]! ^ 1
    writeFileSync(path, flipped)
    expect(() => readBlockIndex(path)).toThrow(/checksum/)
    writeFileSync(path, Buffer.from('not a block file at all'))
    expect(() => readBlockIndex(path)).toThrow(/bad header/)
    const data = Buffer.from(bytes)
    const last = index[2]!
    data[last.offset] = data[last.offset]! ^ 0x40
    writeFileSync(path, data)
    expect(readBlockIndex(path).blocks).toHaveLength(3)
    const fd = openSync(path, 'r')
    try {
      expect(() => readBlockData(fd, last.offset, last.length, last.crc)).toThrow(/checksum/)
    } finally {
      closeSync(fd)
    }
  })

  it('name each block\'s codec, and refuse (not guess) a codec id this build does not know', async () => {
    const unknown: BlockCodec = { id: 200, name: 'from-the-future', encode: (p) => Buffer.from(p), decode: (d) => d }
    const path = await written([blocks[0]!, { ...blocks[1]!, codec: unknown }])
    expect(() => readBlockIndex(path)).toThrow(BlockFileError)
    expect(() => readBlockIndex(path)).toThrow(/block 1 was written with codec id 200/)
  })

  it('read a file written before codec ids (LGBLOCK1): its compressed block as brotli-1, its small one as raw', () => {
    const read = readBlockIndex(V1_FILE)
    expect(read.blocks.map((b) => [b.service, b.n, b.codec.name])).toEqual([['big', 300, 'brotli-1'], ['tiny', 4, 'none']])
    const fd = openSync(V1_FILE, 'r')
    try {
      const views = read.blocks.map((b) => SealedBlock.stored(b.minTs, b.maxTs, b.n, readBlockData(fd, b.offset, b.length, b.crc), b.codec, { read: () => Buffer.alloc(0), file: 'v1' }).view())
      expect(views.map((v) => v.n)).toEqual([300, 4])
      expect(views[0]!.msg.toString('utf8', views[0]!.msgStart[299], views[0]!.msgEnd[299])).toBe(`big entry 299 ${Math.sin(299).toString(36)}`)
      expect(views[1]!.dict).toEqual(expect.arrayContaining(['env', 'prod', 'region', 'eu']))
    } finally {
      closeSync(fd)
    }
  })
})
