import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { killHard } from './durability-helpers.js'
import { eventually, isoAt, postNdjson, readAll, spawnServer, type Spawned } from './helpers.js'

// Outside damage to a DATA_DIR that held 1000 acknowledged entries, all in
// block files (their log already deleted by a checkpoint): a start must bring
// every one of them back, delete nothing, set the damage aside and say so.

const SHARDS = 2
const ENTRIES = 1000
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const c of children.splice(0)) await killHard(c)
})
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'logagg-damage-'))
  dirs.push(d)
  return d
}

const env = (dir: string): Record<string, string> => ({ LOG_LEVEL: 'info', DATA_DIR: dir, SHARDS: String(SHARDS), CHECKPOINT_INTERVAL: '200ms' })
const spawn = (dir: string): Promise<Spawned> => spawnServer(env(dir), [], (c) => children.push(c))
async function stop (s: Spawned): Promise<void> {
  const exited = once(s.child, 'exit')
  s.child.kill('SIGTERM')
  await exited
}

const shardDirs = (dir: string): string[] => Array.from({ length: SHARDS }, (_, i) => join(dir, `shard-${i}`))
/** Every shard has finished a checkpoint and holds no log bytes: all its entries are in block files. */
const allInBlockFiles = (dir: string): boolean => shardDirs(dir).every((d) => {
  if (!existsSync(join(d, 'CHECKPOINT'))) return false
  return readdirSync(join(d, 'wal')).every((f) => statSync(join(d, 'wal', f)).size === 0)
})
const blockFiles = (dir: string): string[] => shardDirs(dir).flatMap((d) => readdirSync(join(d, 'blocks')).map((f) => join(d, 'blocks', f))).sort()
const damageLines = (s: Spawned): string[] => s.lines
  .map((l) => JSON.parse(l) as { msg: string, problem?: string })
  .filter((l) => l.msg === 'damage found in DATA_DIR')
  .map((l) => l.problem ?? '')

let template = ''
const messages = Array.from({ length: ENTRIES }, (_, i) => `entry-${i}`)

beforeAll(async () => {
  template = freshDir()
  const s = await spawn(template)
  const services = ['api', 'web', 'db', 'auth', 'cache', 'queue', 'mail', 'search']
  for (let b = 0; b < ENTRIES / 100; b++) {
    const lines = messages.slice(b * 100, (b + 1) * 100).map((message, i) => JSON.stringify({ service: services[i % services.length], timestamp: isoAt(0, i), message }))
    expect((await postNdjson(s.url, lines)).status).toBe(201)
  }
  expect(await eventually(() => allInBlockFiles(template), 10_000)).toBe(true)
  await stop(s)
  expect(blockFiles(template).length).toBeGreaterThanOrEqual(SHARDS)
}, 30_000)

/** A copy of the stored folder to damage. */
const copy = (): string => {
  const d = freshDir()
  cpSync(template, d, { recursive: true })
  return d
}

async function expectAllBack (dir: string, before: string[]): Promise<Spawned> {
  const s = await spawn(dir)
  expect((await readAll(s.url, 'limit=10000')).map((e) => e.message).sort()).toEqual([...messages].sort())
  // Nothing deleted: every block file is still there under its name.
  for (const f of before) expect(existsSync(f), f).toBe(true)
  return s
}

describe('DATA_DIR damage at start', () => {
  it.each(['deleted', 'emptied', 'filled with garbage'] as const)('CHECKPOINT %s: all 1000 entries come back, no block file is deleted, the damage is set aside and logged', async (damage) => {
    const dir = copy()
    const before = blockFiles(dir)
    for (const d of shardDirs(dir)) {
      const path = join(d, 'CHECKPOINT')
      if (damage === 'deleted') unlinkSync(path)
      if (damage === 'emptied') writeFileSync(path, '')
      if (damage === 'filled with garbage') writeFileSync(path, Buffer.from([0x7b, 0xff, 0x00, 0x13, 0x37, 0x22]))
    }
    const s = await expectAllBack(dir, before)
    const problems = damageLines(s)
    expect(problems.filter((p) => /rebuilt it from the \d+ block files and \d+ log segments present; loaded every block file \(none deleted\)/.test(p))).toHaveLength(SHARDS)
    if (damage !== 'deleted') {
      for (const d of shardDirs(dir)) expect(existsSync(join(d, 'CHECKPOINT.corrupt'))).toBe(true)
      expect(problems.filter((p) => /CHECKPOINT is unreadable .*moved it aside as CHECKPOINT\.corrupt/.test(p))).toHaveLength(SHARDS)
    }
    await stop(s)
  })

  const strays: Array<{ kind: string, make: (shard: string) => string, problem: RegExp }> = [
    { kind: 'a directory named like a block file', make: (d) => { mkdirSync(join(d, 'blocks', 's1-c1.blk')); return join(d, 'blocks', 's1-c1.blk') }, problem: /s1-c1\.blk is a directory, not a file; never opened it, moved it aside as s1-c1\.blk\.corrupt/ },
    { kind: 'a directory named like a log segment', make: (d) => { mkdirSync(join(d, 'wal', '0000000000000099.log')); return join(d, 'wal', '0000000000000099.log') }, problem: /0000000000000099\.log is a directory, not a file; .*moved it aside as 0000000000000099\.log\.corrupt/ },
    { kind: 'wal as a file', make: (d) => { rmSync(join(d, 'wal'), { recursive: true }); writeFileSync(join(d, 'wal'), 'not a folder'); return join(d, 'wal') }, problem: /wal is not a directory; moved it aside as wal\.corrupt and made a new, empty wal directory/ },
    { kind: 'a FIFO named like a log segment', make: (d) => { execFileSync('mkfifo', [join(d, 'wal', '0000000000000099.log')]); return join(d, 'wal', '0000000000000099.log') }, problem: /0000000000000099\.log is a FIFO, not a file; never opened it, moved it aside/ },
    { kind: 'a FIFO named like a block file', make: (d) => { execFileSync('mkfifo', [join(d, 'blocks', 's1-c1.blk')]); return join(d, 'blocks', 's1-c1.blk') }, problem: /s1-c1\.blk is a FIFO, not a file; never opened it, moved it aside as s1-c1\.blk\.corrupt/ }
  ]

  it.each(strays)('a stray entry ($kind): the server starts, every entry is intact, the stray is moved aside as .corrupt and logged', async ({ make, problem }) => {
    const dir = copy()
    const before = blockFiles(dir)
    const stray = make(join(dir, 'shard-0'))
    const kindBefore = lstatSync(stray)
    const s = await expectAllBack(dir, before)
    const aside = lstatSync(`${stray}.corrupt`)
    expect([aside.isDirectory(), aside.isFIFO(), aside.isFile()]).toEqual([kindBefore.isDirectory(), kindBefore.isFIFO(), kindBefore.isFile()])
    if (kindBefore.isFile()) expect(readFileSync(`${stray}.corrupt`, 'utf8')).toBe('not a folder')
    expect(damageLines(s).filter((p) => problem.test(p))).toHaveLength(1)
    await stop(s)
  })
})
