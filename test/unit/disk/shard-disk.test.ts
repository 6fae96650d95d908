import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { putBatch } from '../../../src/ingest/shard-ingest.js'
import { BatchBuilder } from '../../../src/shards/batch-builder.js'
import { BlockFileError } from '../../../src/store/disk/block-file.js'
import { FRAME_HEADER, scanRecords } from '../../../src/store/disk/record-frame.js'
import type { Recovery } from '../../../src/store/shard-messages.js'
import { DurableStore } from '../../../src/store/disk/durable-store.js'
import type { ShardDisk } from '../../../src/store/disk/shard-disk.js'
import { segmentName, type FsyncMode } from '../../../src/store/disk/wal.js'
import { ShardStore } from '../../../src/store/shard-store.js'
import { nowUs } from '../../../src/core/timestamp.js'

const T = Date.parse('2026-11-27T12:00:00Z') * 1000
const dirs: string[] = []
const opened: ShardDisk[] = []
afterEach(() => {
  for (const d of opened.splice(0)) d.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'logagg-shard-'))
  dirs.push(d)
  return d
}

interface Opened { store: ShardStore, durable: DurableStore, disk: ShardDisk, recovery: Recovery }

/** `hotFrom`: blocks all older than it (epoch µs) stay in their files; Infinity: every block. */
function open (dir: string, cutoff = -Infinity, fsync: FsyncMode = { kind: 'off' }, hotFrom = -Infinity): Opened {
  const store = new ShardStore()
  const hotWindowMs = hotFrom === -Infinity ? Infinity : (nowUs() - hotFrom) / 1000
  const durable = DurableStore.open({ dir, fsync, checkpointMs: 60_000, segmentBytes: 64 << 20, hotWindowMs, hotBytes: Infinity }, store, cutoff)
  opened.push(durable.disk)
  return { store, durable, disk: durable.disk, recovery: durable.recovery }
}

let seq = 0
/** Ingests one batch the way a shard with a data folder does: staged, logged, then stored. */
function ingest (a: Opened, messages: string[], ts = T, service = 'api'): Promise<unknown> | null {
  const b = new BatchBuilder()
  messages.forEach((m, i) => b.add({ service, ts: ts + i, message: m, labels: service === 'web' ? ['env', 'prod'] : null, attributes: i % 2 === 0 ? ['k', m] : null }, ++seq))
  const stored = a.durable.ingest((sink) => putBatch(b.build(), sink))
  return stored instanceof Promise ? stored : null
}

const everything = (store: ShardStore): string[] => {
  const part = store.queryAll({ id: 1, services: null, start: -Infinity, end: Infinity, descending: false, limit: 1e9, after: null, contains: null, attrs: [], maxBytes: Infinity })
  return JSON.parse(`[${Buffer.from(part.body).toString()}]`).map((e: { message: string }) => e.message)
}

describe('ShardDisk', () => {
  it('brings back every logged entry after a restart (no checkpoint yet: from the log alone)', async () => {
    const dir = freshDir()
    const a = open(dir, -Infinity, { kind: 'batch' })
    await ingest(a, ['one', 'two'])
    await ingest(a, ['three'], T + 10, 'web')
    a.disk.close()
    const b = open(dir)
    expect(everything(b.store)).toEqual(['one', 'two', 'three'])
    expect(b.recovery).toMatchObject({ entries: 3, records: 2, segments: 1, blockFiles: 0, problems: [], maxSeq: seq })
  })

  it('checkpoints: blocks go to files, the covered log segments are deleted, and a restart reads both exactly once', async () => {
    const dir = freshDir()
    const a = open(dir)
    ingest(a, Array.from({ length: 1500 }, (_, i) => `early ${i}`))
    ingest(a, ['late one'], T - 5_000_000, 'web')
    await a.disk.maintain(Date.now(), true)
    expect(a.disk.checkpointError).toBeNull()
    expect(JSON.parse(readFileSync(join(dir, 'CHECKPOINT'), 'utf8'))).toEqual({ segment: 1, maxSeq: seq })
    expect(readdirSync(join(dir, 'wal'))).toEqual([segmentName(2)])
    expect(readdirSync(join(dir, 'blocks')).length).toBeGreaterThanOrEqual(1)
    ingest(a, ['after checkpoint'], T + 2000)
    const before = everything(a.store)
    a.disk.close()
    const b = open(dir)
    expect(everything(b.store)).toEqual(before)
    expect(b.recovery.entries).toBe(1502)
    expect(b.recovery.blockFiles).toBeGreaterThanOrEqual(1)
    expect(b.recovery.records).toBe(1)
    // A second checkpoint writes only what is new.
    const files = readdirSync(join(dir, 'blocks')).length
    await b.disk.maintain(Date.now(), true)
    expect(readdirSync(join(dir, 'blocks')).length).toBe(files + 1)
    b.disk.close()
    expect(everything(open(dir).store)).toEqual(before)
  })

  it('ignores the block files of a checkpoint that did not finish (its entries are still in the log)', async () => {
    const dir = freshDir()
    const a = open(dir)
    ingest(a, ['a', 'b', 'c'])
    const saved = freshDir()
    cpSync(join(dir, 'wal'), saved, { recursive: true })
    await a.disk.maintain(Date.now(), true)
    a.disk.close()
    // The state of a crash after the block files of checkpoint 1 were written and before CHECKPOINT (still 0) was.
    writeFileSync(join(dir, 'CHECKPOINT'), JSON.stringify({ segment: 0, maxSeq: 0 }))
    cpSync(saved, join(dir, 'wal'), { recursive: true })
    const b = open(dir)
    expect(everything(b.store)).toEqual(['a', 'b', 'c'])
    expect(readdirSync(join(dir, 'blocks'))).toEqual([])
  })

  it('no CHECKPOINT but block files and their log both present: rebuilt, nothing deleted, every entry loaded once', async () => {
    const dir = freshDir()
    const a = open(dir)
    ingest(a, ['a', 'b', 'c'])
    const saved = freshDir()
    cpSync(join(dir, 'wal'), saved, { recursive: true })
    await a.disk.maintain(Date.now(), true)
    ingest(a, ['d'], T + 10)
    a.disk.close()
    unlinkSync(join(dir, 'CHECKPOINT'))
    cpSync(saved, join(dir, 'wal'), { recursive: true })
    const blocks = readdirSync(join(dir, 'blocks'))
    const b = open(dir)
    expect(everything(b.store)).toEqual(['a', 'b', 'c', 'd'])
    expect(b.recovery.maxSeq).toBe(seq)
    expect(readdirSync(join(dir, 'blocks'))).toEqual(blocks)
    expect(b.recovery.problems).toEqual([expect.stringMatching(/there is no CHECKPOINT .*rebuilt it from the 1 block files and 2 log segments present.*skipping 3 logged entries/)])
    // The next checkpoint writes a CHECKPOINT again, and a start after it is clean and exact.
    await b.disk.maintain(Date.now(), true)
    b.disk.close()
    const c = open(dir)
    expect(everything(c.store)).toEqual(['a', 'b', 'c', 'd'])
    expect(c.recovery.problems).toEqual([])
  })

  it('CHECKPOINT missing, empty, garbage or a directory once the log is deleted: every block file is loaded, none deleted, the damage set aside', async () => {
    for (const damage of ['missing', 'empty', 'garbage', 'directory'] as const) {
      const dir = freshDir()
      const a = open(dir)
      ingest(a, Array.from({ length: 300 }, (_, i) => `m${i}`))
      ingest(a, ['other'], T, 'web')
      await a.disk.maintain(Date.now(), true)
      a.disk.close()
      const path = join(dir, 'CHECKPOINT')
      unlinkSync(path)
      if (damage === 'empty') writeFileSync(path, '')
      if (damage === 'garbage') writeFileSync(path, '{"segment": "x\u0000\u00ff')
      if (damage === 'directory') mkdirSync(path)
      const blocks = readdirSync(join(dir, 'blocks'))
      const b = open(dir)
      expect(everything(b.store), damage).toHaveLength(301)
      expect(b.recovery.maxSeq, damage).toBe(seq)
      expect(readdirSync(join(dir, 'blocks')), damage).toEqual(blocks)
      if (damage !== 'missing') {
        expect(existsSync(join(dir, 'CHECKPOINT.corrupt')), damage).toBe(true)
        expect(b.recovery.problems[0], damage).toMatch(/CHECKPOINT .*moved it aside as CHECKPOINT\.corrupt/)
      }
      expect(b.recovery.problems.at(-1), damage).toContain(`rebuilt it from the ${blocks.length} block files and 1 log segments present`)
    }
  })

  it('skips and reports a damaged block file, and starts', async () => {
    const dir = freshDir()
    const a = open(dir)
    ingest(a, ['in a file'])
    await a.disk.maintain(Date.now(), true)
    ingest(a, ['in the log'], T + 5)
    a.disk.close()
    const [file] = readdirSync(join(dir, 'blocks'))
    writeFileSync(join(dir, 'blocks', file!), 'garbage')
    const b = open(dir)
    expect(everything(b.store)).toEqual(['in the log'])
    expect(b.recovery.problems).toEqual([expect.stringMatching(new RegExp(`block file ${file} is damaged .*renamed it ${file}\\.corrupt`))])
    expect(existsSync(join(dir, 'blocks', `${file!}.corrupt`))).toBe(true)
  })

  it('loads nothing older than the retention cutoff, from files or from the log, and purge deletes expired files', async () => {
    const dir = freshDir()
    const a = open(dir)
    ingest(a, ['old file'], T - 3_600_000_000)
    ingest(a, ['new file'], T)
    await a.disk.maintain(Date.now(), true)
    ingest(a, ['old log'], T - 3_600_000_000)
    ingest(a, ['new log'], T)
    a.disk.close()
    const b = open(dir, T - 60_000_000)
    expect(everything(b.store).sort()).toEqual(['new file', 'new log'])
    const count = readdirSync(join(dir, 'blocks')).length
    await b.disk.maintain(Date.now(), true)
    await b.disk.purge(T + 1)
    expect(readdirSync(join(dir, 'blocks')).length).toBeLessThan(count + 1)
  })

  it('cold blocks: blocks in files leave memory and queries read them from disk; a start loads old ones cold', async () => {
    const dir = freshDir()
    const a = open(dir)
    const messages = Array.from({ length: 3000 }, (_, i) => `entry ${i} ${'z'.repeat(i % 50)}`)
    ingest(a, messages)
    ingest(a, ['recent'], T + 10_000_000_000)
    await a.disk.maintain(Date.now(), true)
    const all = everything(a.store)
    const held = a.store.bytes
    // Everything before T + 1 s leaves memory; the recent block stays.
    const freed = a.store.evictCold(T + 1_000_000, Infinity)
    expect(freed).toBeGreaterThan(0)
    expect(a.store.bytes).toBe(held - freed)
    expect(everything(a.store)).toEqual(all)
    // Past a byte target, blocks go too whatever their age.
    a.store.evictCold(-Infinity, 0)
    expect(everything(a.store)).toEqual(all)
    a.disk.close()

    const hot = open(dir)
    const cold = open(dir, -Infinity, { kind: 'off' }, Infinity)
    expect(everything(cold.store)).toEqual(all)
    expect(cold.store.bytes).toBeLessThan(hot.store.bytes / 4)
    expect(cold.recovery.bytes).toBeLessThan(hot.recovery.bytes / 4)
  })

  it('a damaged cold block fails the query that reads it with a BlockFileError, not garbage', async () => {
    const dir = freshDir()
    const a = open(dir)
    ingest(a, Array.from({ length: 600 }, (_, i) => `m${i}`))
    await a.disk.maintain(Date.now(), true)
    a.disk.close()
    const [file] = readdirSync(join(dir, 'blocks'))
    const path = join(dir, 'blocks', file!)
    const bytes = readFileSync(path)
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff
    writeFileSync(path, bytes)
    const b = open(dir, -Infinity, { kind: 'off' }, Infinity)
    expect(b.recovery.problems).toEqual([])
    expect(() => everything(b.store)).toThrow(BlockFileError)
  })

  it('a flipped bit in a log record: the segment as it was is kept as <segment>.corrupt before the rest is cut off, and the report says so', () => {
    const dir = freshDir()
    const a = open(dir)
    for (let i = 0; i < 5; i++) ingest(a, [`m${i}`], T + i)
    a.disk.close()
    const path = join(dir, 'wal', segmentName(1))
    const log = readFileSync(path)
    const second = FRAME_HEADER + scanRecords(log).records[0]!.length
    // One bit of the second record's payload.
    log[second + FRAME_HEADER + 2] = log[second + FRAME_HEADER + 2]! ^ 0x10
    writeFileSync(path, log)
    const b = open(dir)
    expect(everything(b.store)).toEqual(['m0'])
    expect(readFileSync(`${path}.corrupt`).equals(log)).toBe(true)
    expect(readFileSync(path).length).toBe(second)
    expect(b.recovery.problems).toEqual([expect.stringMatching(new RegExp(`checksum does not match at byte ${second}; cut off the last ${log.length - second} bytes .*the segment as it was is kept as ${segmentName(1)}\\.corrupt`))])
    b.disk.close()
    // The copy is not a segment: the next start neither replays nor reports it.
    const c = open(dir)
    expect(everything(c.store)).toEqual(['m0'])
    expect(c.recovery.problems).toEqual([])
  })

  it('torn or damaged log: keeps every record before the damage, cuts the rest off and reports its size', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 12 }), fc.nat(), fc.boolean(), fc.integer({ min: 1, max: 255 }), (n, at, flip, mask) => {
      const dir = freshDir()
      const a = open(dir)
      for (let i = 0; i < n; i++) ingest(a, [`m${i}`], T + i)
      a.disk.close()
      const path = join(dir, 'wal', segmentName(1))
      const log = readFileSync(path)
      const ends: number[] = []
      let end = 0
      for (const r of scanRecords(log).records) ends.push(end += FRAME_HEADER + r.length)
      const pos = at % log.length
      if (flip) {
        log[pos] = log[pos]! ^ mask
        writeFileSync(path, log)
      } else {
        truncateSync(path, pos)
      }
      // Records wholly before the damaged byte (or the cut) survive.
      const kept = ends.filter((e) => e <= pos).length
      const b = open(dir)
      expect(everything(b.store)).toEqual(Array.from({ length: kept }, (_, i) => `m${i}`))
      const dropped = (flip ? log.length : pos) - (kept === 0 ? 0 : ends[kept - 1]!)
      if (dropped > 0) expect(b.recovery.problems).toEqual([expect.stringContaining(`cut off the last ${dropped} bytes`)])
      else expect(b.recovery.problems).toEqual([])
      expect(readFileSync(path).length).toBe(kept === 0 ? 0 : ends[kept - 1]!)
      b.disk.close()
      // Cut once: the next start finds nothing wrong.
      expect(open(dir).recovery.problems).toEqual([])
    }), { numRuns: 40 })
  })
})
