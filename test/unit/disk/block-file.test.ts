import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BlockFileError, encodeBlockFile, readBlockData, readBlockIndex, type StoredBlock } from '../../../src/store/disk/block-file.js'
import { writeFileAtomic } from '../../../src/store/disk/files.js'

let dir = ''
afterEach(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })

const blocks: StoredBlock[] = [
  { service: 'api', labels: [], slot: 7, late: false, minTs: 10, maxTs: 20, n: 3, compressed: true, data: Buffer.from('first block bytes') },
  { service: 'web', labels: ['env', 'prod'], slot: 7, late: true, minTs: -5, maxTs: 15, n: 1, compressed: false, data: Buffer.from('second') }
]

async function written (): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'logagg-blocks-'))
  const path = join(dir, 's7-c1.blk')
  await writeFileAtomic(path, encodeBlockFile(blocks).chunks)
  return path
}

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
        expect(b).toMatchObject({ service: blocks[i]!.service, labels: blocks[i]!.labels, slot: 7, late: blocks[i]!.late, minTs: blocks[i]!.minTs, maxTs: blocks[i]!.maxTs, n: blocks[i]!.n, compressed: blocks[i]!.compressed })
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
    const last = index[1]!
    data[last.offset] = data[last.offset]! ^ 0x40
    writeFileSync(path, data)
    expect(readBlockIndex(path).blocks).toHaveLength(2)
    const fd = openSync(path, 'r')
    try {
      expect(() => readBlockData(fd, last.offset, last.length, last.crc)).toThrow(/checksum/)
    } finally {
      closeSync(fd)
    }
  })
})
