import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { BlockCodec } from '../../src/store/codec/block-codec.js'
import { encodeBlockFile, readBlockIndex } from '../../src/store/disk/block-file.js'
import { writeFileAtomic } from '../../src/store/disk/files.js'
import { v1Entries } from '../fixtures/v1-block-file/entries.js'
import { eventually, isoAt, postNdjson, readAll, startTestServer, type RunningServer } from './helpers.js'

// BLOCK_CODEC: new blocks are sealed with the codec it names; every block
// keeps the codec it was written with (its id is in its block file), so a
// DATA_DIR stays readable across a codec change and across the change that
// introduced codec ids.

let server: RunningServer | undefined
let dir = ''
afterEach(async () => {
  await server?.close()
  server = undefined
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

/** Entries in the block files of `dataDir`, by the name of the codec their block was written with. */
function entriesByCodec (dataDir: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const shard of readdirSync(dataDir).filter((n) => n.startsWith('shard-'))) {
    const blocks = join(dataDir, shard, 'blocks')
    for (const name of readdirSync(blocks).filter((n) => n.endsWith('.blk'))) {
      for (const b of readBlockIndex(join(blocks, name)).blocks) out[b.codec.name] = (out[b.codec.name] ?? 0) + b.n
    }
  }
  return out
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0)

/** A message that compresses, but not to nothing. */
const text = (tag: string, i: number): string => `${tag} entry ${i} ${Math.sin(i).toString(36).repeat(4)}`

const FIXTURE = fileURLToPath(new URL('../fixtures/v1-block-file/shard-0', import.meta.url))
/** The fixture's entries are of January 2025: keep them. */
const RETENTION = 100_000 * 3_600_000

describe('block codecs', () => {
  it('load a DATA_DIR written before block files named their codec (LGBLOCK1), every entry as it was sent', async () => {
    dir = mkdtempSync(join(tmpdir(), 'logagg-codec-'))
    cpSync(FIXTURE, join(dir, 'shard-0'), { recursive: true })
    const settings = { shards: 1, dataDir: dir, retention: RETENTION, checkpointInterval: 200 }
    server = await startTestServer(settings)
    const range = 'start=2025-01-01T00:00:00Z&end=2025-01-02T00:00:00Z&limit=1000'
    const expected = (service: string): Array<Record<string, unknown>> => v1Entries().filter((e) => e.service === service).map((e) => ({ ...e }))
    expect(await readAll(server.url, `service=big&${range}`)).toMatchObject(expected('big'))
    expect(await readAll(server.url, `service=tiny&${range}`)).toMatchObject(expected('tiny'))
    // New blocks go to a new (LGBLOCK2) file next to the old one; a restart reads both.
    const fresh = Array.from({ length: 500 }, (_, i) => JSON.stringify({ service: 'big', timestamp: isoAt(-60_000 + i), message: text('new', i) }))
    expect((await postNdjson(server.url, fresh)).status).toBe(201)
    expect(await eventually(() => total(entriesByCodec(dir)) === 304 + 500, 10_000)).toBe(true)
    await server.close()
    server = await startTestServer(settings)
    expect(await readAll(server.url, `service=big&${range}`)).toMatchObject(expected('big'))
    expect((await readAll(server.url, 'service=big&since=1h&limit=1000')).map((e) => e.message)).toEqual(fresh.map((_, i) => text('new', i)))
  })

  it('keep the codec each block was written with: brotli-1s (the default) blocks read back after a restart with BLOCK_CODEC=deflate-1, and new blocks are deflate-1', async () => {
    dir = mkdtempSync(join(tmpdir(), 'logagg-codec-'))
    // HOT_WINDOW 1s: the blocks leave memory, so queries decode them from their files too.
    const settings = { shards: 2, dataDir: dir, checkpointInterval: 200, hotWindow: 1000 }
    server = await startTestServer(settings)
    const batch = (tag: string): string[] => Array.from({ length: 2000 }, (_, i) => JSON.stringify({ service: `svc${i % 3}`, timestamp: isoAt(-120_000 + i), message: text(tag, i) }))
    expect((await postNdjson(server.url, batch('first'))).status).toBe(201)
    expect(await eventually(() => total(entriesByCodec(dir)) === 2000, 10_000)).toBe(true)
    const before = entriesByCodec(dir)
    expect(Object.keys(before).filter((c) => c !== 'none')).toEqual(['brotli-1s'])
    const first = await readAll(server.url, 'limit=1000')
    expect(first).toHaveLength(2000)
    await server.close()

    server = await startTestServer({ ...settings, blockCodec: 'deflate-1' })
    expect(await readAll(server.url, 'limit=1000')).toEqual(first)
    expect((await postNdjson(server.url, batch('second'))).status).toBe(201)
    expect(await eventually(() => total(entriesByCodec(dir)) === 4000, 10_000)).toBe(true)
    const after = entriesByCodec(dir)
    expect(after['brotli-1s']).toBe(before['brotli-1s'])
    expect(after['deflate-1']).toBeGreaterThan(1900)
    const both = await readAll(server.url, 'limit=1000')
    expect(both).toHaveLength(4000)
    await server.close()

    // And with yet another codec, every block still reads back by its own.
    server = await startTestServer({ ...settings, blockCodec: 'none' })
    expect(await readAll(server.url, 'limit=1000')).toEqual(both)
  })

  it('set aside, not guess at or delete, a block file whose codec id this build does not know, and load the rest', async () => {
    dir = mkdtempSync(join(tmpdir(), 'logagg-codec-'))
    cpSync(FIXTURE, join(dir, 'shard-0'), { recursive: true })
    const future: BlockCodec = { id: 200, name: 'from-the-future', encode: (p) => Buffer.from(p), decode: (d) => d }
    // Same slot, checkpoint 1 like the fixture's file: covered by its CHECKPOINT, so it is loaded.
    const strange = join(dir, 'shard-0', 'blocks', 's5785633-c1.blk')
    await writeFileAtomic(strange, encodeBlockFile([{ service: 'big', labels: [], slot: 5785633, late: false, minTs: 1, maxTs: 2, n: 1, codec: future, data: Buffer.from('?') }]).chunks)
    const lines: string[] = []
    server = await startTestServer({ shards: 1, dataDir: dir, retention: RETENTION }, lines)
    expect(existsSync(strange)).toBe(false)
    expect(existsSync(`${strange}.corrupt`)).toBe(true)
    expect(lines.some((l) => l.includes('damage found in DATA_DIR') && l.includes('codec id 200'))).toBe(true)
    expect(await readAll(server.url, 'service=big&start=2025-01-01T00:00:00Z&end=2025-01-02T00:00:00Z&limit=1000')).toHaveLength(300)
  })
})
