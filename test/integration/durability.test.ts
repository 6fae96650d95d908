import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { shardOf } from '../../src/core/hash.js'
import { killHard, readBackExactlyOnce, sustainedIngest } from './durability-helpers.js'
import { eventually, getJson, isoAt, postJson, postNdjson, readAll, runMain, spawnServer, startFixtureServer, kTestInternals, type RunningServer, type Spawned } from './helpers.js'

// DATA_DIR with real processes and real files: what a 2xx acknowledged
// survives kill -9 of the server and the crash of a shard worker, exactly once.

const children: ChildProcess[] = []
const dirs: string[] = []
const mounts: string[] = []
let inProcess: RunningServer | undefined

afterEach(async () => {
  await inProcess?.close()
  inProcess = undefined
  delete process.env.LOGAGG_TEST_DISK_FULL
  for (const c of children.splice(0)) await killHard(c)
  for (const m of mounts.splice(0)) execFileSync('umount', [m])
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'logagg-durable-'))
  dirs.push(d)
  return d
}

async function spawn (env: Record<string, string>): Promise<Spawned> {
  const s = await spawnServer({ LOG_LEVEL: 'info', ...env })
  children.push(s.child)
  return s
}

async function stop (s: Spawned): Promise<void> {
  const exited = once(s.child, 'exit')
  s.child.kill('SIGTERM')
  await exited
}

const SERVICES = ['api', 'web', 'db', 'auth', 'cache', 'queue', 'mail', 'search']
/** True once every shard folder under `dir` has finished a checkpoint. */
const checkpointed = (dir: string, shards: number): boolean => Array.from({ length: shards }, (_, i) => existsSync(join(dir, `shard-${i}`, 'CHECKPOINT'))).every(Boolean)
const serviceOn = (shard: number, shards: number, prefix: string): string => {
  for (let i = 0; ; i++) if (shardOf(`${prefix}-${i}`, shards) === shard) return `${prefix}-${i}`
}

describe('DATA_DIR durability', () => {
  it('kill -9 during sustained NDJSON ingest from several clients: after a restart every acknowledged entry is read back exactly once', async () => {
    const dir = freshDir()
    const env = { DATA_DIR: dir, SHARDS: '2', CHECKPOINT_INTERVAL: '400ms' }
    const first = await spawn(env)
    const run = sustainedIngest(first.url, { clients: 4, services: SERVICES, batch: 200, tag: 'kill' })
    // Long enough for checkpoints to have written block files and deleted log segments: both are read back.
    expect(await eventually(() => run.ledger.acked.size >= 20_000 && checkpointed(dir, 2), 20_000)).toBe(true)
    await killHard(first.child)
    const ledger = await run.stop()
    expect(ledger.statuses.get('201') ?? 0).toBeGreaterThan(0)

    const second = await spawn(env)
    expect((await getJson(second.url, '/healthz')).status).toBe(200)
    const back = await readBackExactlyOnce(second.url, ledger)
    expect(back).toMatchObject({ missing: [], duplicated: [], unknown: [] })
    expect(back.found).toBeGreaterThanOrEqual(ledger.acked.size)
    const loaded = second.lines.map((l) => JSON.parse(l) as { msg: string, entries?: number, ownerPid?: number })
    expect(loaded.find((l) => l.msg === 'loaded DATA_DIR')?.entries).toBe(back.found)
    expect(loaded.some((l) => l.msg.startsWith('took over the DATA_DIR lock') && l.ownerPid === first.child.pid)).toBe(true)

    // Numbering goes on above what was loaded: an entry stored now with the very
    // timestamp of the last one loaded sorts after it, so cursors stay exact.
    const last = (await getJson(second.url, '/logs?limit=1&order=desc')).body.logs[0] as { service: string, timestamp: string, message: string }
    expect((await postJson(second.url, { service: last.service, timestamp: last.timestamp, message: 'after restart' })).status).toBe(201)
    const tail = (await getJson(second.url, `/logs?service=${last.service}&limit=2&order=desc`)).body.logs as Array<{ message: string }>
    expect(tail.map((e) => e.message)).toEqual(['after restart', last.message])
    await stop(second)
  })

  it('a shard worker that crashes mid-ingest comes back with everything it acknowledged', async () => {
    const dir = freshDir()
    const logs: string[] = []
    inProcess = await startFixtureServer({ shards: 2, dataDir: dir, checkpointInterval: 300 }, logs)
    const services = [0, 1, 2].map((i) => serviceOn(0, 2, `victim${i}`)).concat([serviceOn(1, 2, 'survivor')])
    const run = sustainedIngest(inProcess.url, { clients: 3, services, batch: 100, tag: 'crash' })
    expect(await eventually(() => run.ledger.acked.size >= 5_000 && checkpointed(dir, 2), 15_000)).toBe(true)
    const shard = inProcess.router.shards[0]!
    await inProcess[kTestInternals].workers[0]!.sendRaw({ type: 'crash' }).catch(() => {})
    expect(await eventually(() => shard.restarts >= 1 && shard.state === 'ready', 15_000)).toBe(true)
    // Ingest went on meanwhile (503 for the dead shard's services); now stop and read everything back.
    const ledger = await run.stop()
    expect(ledger.statuses.get('503') ?? 0).toBeGreaterThan(0)
    const back = await readBackExactlyOnce(inProcess.url, ledger)
    expect(back).toMatchObject({ missing: [], duplicated: [], unknown: [] })
    const events = logs.map((l) => JSON.parse(l) as { msg: string, shard?: number, entries?: number })
    expect(events.some((e) => e.msg.startsWith('shard worker died; restarting it, it reloads') && e.shard === 0)).toBe(true)
    const reloads = events.filter((e) => e.msg === 'shard loaded its data folder' && e.shard === 0)
    expect(reloads).toHaveLength(2)
    expect(reloads[1]!.entries).toBeGreaterThan(0)
  })

  it('entries older than RETENTION stay gone after a restart', async () => {
    const dir = freshDir()
    const env = { DATA_DIR: dir, SHARDS: '1', RETENTION: '3s', PURGE_INTERVAL: '200ms', CHECKPOINT_INTERVAL: '200ms' }
    const first = await spawn(env)
    expect((await postJson(first.url, [{ service: 'old', timestamp: isoAt(-2500), message: 'expires soon' }])).status).toBe(201)
    expect((await postJson(first.url, [{ service: 'new', timestamp: isoAt(5000), message: 'stays' }])).status).toBe(201)
    // Both on disk (a checkpoint wrote their blocks), then the old one expires.
    expect(await eventually(() => checkpointed(dir, 1), 5000)).toBe(true)
    expect(await eventually(async () => (await readAll(first.url, 'service=old')).length === 0, 5000)).toBe(true)
    expect((await postJson(first.url, [{ service: 'old', timestamp: isoAt(0), message: 'in the log only' }])).status).toBe(201)
    await killHard(first.child)
    const second = await spawn(env)
    expect((await readAll(second.url, '')).map((e) => e.message).sort()).toEqual(['in the log only', 'stays'])
    await stop(second)
  })

  it('a full disk answers 507 with a clear error, loses nothing acknowledged, and queries go on', async () => {
    // A 2 MiB tmpfs where the test may mount one (root); otherwise writes fail on purpose (the crash fixture).
    const mnt = freshDir()
    let mounted = true
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'ignore' })
      mounts.push(mnt)
    } catch {
      mounted = false
    }
    const dir = join(mnt, 'data')
    const fullFile = join(freshDir(), 'full')
    let url: string
    let server: Spawned | null = null
    if (mounted) {
      server = await spawn({ DATA_DIR: dir, SHARDS: '1', MAX_DISK: '1gb', CHECKPOINT_INTERVAL: '1h' })
      url = server.url
    } else {
      process.env.LOGAGG_TEST_DISK_FULL = fullFile
      inProcess = await startFixtureServer({ shards: 1, dataDir: dir, maxDisk: 1 << 30, checkpointInterval: 3_600_000 })
      url = inProcess.url
    }
    const acked = new Set<string>()
    let refused: { status: number, body: { error: string, code: string } } | null = null
    for (let b = 0; b < 200 && refused === null; b++) {
      if (!mounted && b === 10) writeFileSync(fullFile, '')
      const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ service: 'fill', timestamp: isoAt(0), message: `b${b}-${i}-${'x'.repeat(200)}` }))
      const res = await postNdjson(url, lines)
      if (res.status === 201) for (let i = 0; i < 100; i++) acked.add(`b${b}-${i}-${'x'.repeat(200)}`)
      else refused = res
    }
    expect(refused?.status).toBe(507)
    expect(refused?.body.code).toBe('LOGAGG_ERR_DISK_FULL')
    expect(refused?.body.error).toMatch(/the disk is full/)
    expect(acked.size).toBeGreaterThan(0)
    const read = async (): Promise<string[]> => (await readAll(url, 'service=fill&limit=10000')).map((e) => e.message)
    expect(new Set(await read())).toEqual(acked)
    expect((await getJson(url, '/healthz')).status).toBe(200)
    if (server !== null) {
      // And after a restart on the full disk.
      await killHard(server.child)
      server = await spawn({ DATA_DIR: dir, SHARDS: '1', MAX_DISK: '1gb', CHECKPOINT_INTERVAL: '1h' })
      url = server.url
      const back = await read()
      expect(back.length).toBe(new Set(back).size)
      for (const m of acked) expect(back.includes(m)).toBe(true)
      await stop(server)
    }
  })

  it('answers 507 past MAX_DISK', async () => {
    const dir = freshDir()
    const server = await spawn({ DATA_DIR: dir, SHARDS: '1', MAX_DISK: '64kb' })
    let res = { status: 201, body: {} as { code?: string, error?: string } }
    for (let b = 0; b < 50 && res.status === 201; b++) {
      res = await postNdjson(server.url, Array.from({ length: 50 }, (_, i) => JSON.stringify({ service: 'cap', timestamp: isoAt(0), message: `${b}-${i}-${'y'.repeat(100)}` })))
    }
    expect(res.status).toBe(507)
    expect(res.body.code).toBe('LOGAGG_ERR_DISK_FULL')
    expect(res.body.error).toMatch(/MAX_DISK is 0 MiB|MAX_DISK/)
    await stop(server)
  })

  it('refuses a second server on the same DATA_DIR, and another SHARDS than the folder was written with', async () => {
    const dir = freshDir()
    const first = await spawn({ DATA_DIR: dir, SHARDS: '2' })
    const second = await runMain({ DATA_DIR: dir, SHARDS: '2', PORT: '0' })
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(new RegExp(`DATA_DIR ${dir} is in use by another server \\(pid ${first.child.pid}`))
    await stop(first)
    expect(readdirSync(dir)).not.toContain('LOCK')
    const other = await runMain({ DATA_DIR: dir, SHARDS: '3', PORT: '0' })
    expect(other.code).toBe(1)
    expect(other.stderr).toMatch(/written with SHARDS=2 and this server runs SHARDS=3/)
  })

  it('cuts a torn log tail at start, reports the bytes dropped, and keeps every record before it', async () => {
    const dir = freshDir()
    const env = { DATA_DIR: dir, SHARDS: '1', CHECKPOINT_INTERVAL: '1h' }
    const first = await spawn(env)
    // One request after the other: one log record each.
    for (let i = 0; i < 5; i++) expect((await postJson(first.url, { service: 'torn', timestamp: isoAt(0, i), message: `r${i}` })).status).toBe(201)
    await killHard(first.child)
    const wal = join(dir, 'shard-0', 'wal')
    const [segment] = readdirSync(wal)
    // As if the last write had been cut short by a crash.
    truncateSync(join(wal, segment!), statSync(join(wal, segment!)).size - 3)
    const second = await spawn(env)
    expect((await readAll(second.url, 'service=torn')).map((e) => e.message)).toEqual(['r0', 'r1', 'r2', 'r3'])
    const damage = second.lines.map((l) => JSON.parse(l) as { msg: string, problem?: string }).filter((l) => l.msg === 'damage found in DATA_DIR')
    expect(damage.map((d) => d.problem)).toEqual([expect.stringMatching(/a record cut short .*cut off the last \d+ bytes .*every record before it was kept/)])
    await stop(second)
  })

  it('reports a damaged block file at start and serves the rest', async () => {
    const dir = freshDir()
    const env = { DATA_DIR: dir, SHARDS: '1', CHECKPOINT_INTERVAL: '200ms' }
    const first = await spawn(env)
    expect((await postJson(first.url, [{ service: 'a', timestamp: isoAt(0), message: 'in a file' }])).status).toBe(201)
    expect(await eventually(() => checkpointed(dir, 1), 5000)).toBe(true)
    expect((await postJson(first.url, [{ service: 'a', timestamp: isoAt(0), message: 'in the log' }])).status).toBe(201)
    await killHard(first.child)
    const blocks = join(dir, 'shard-0', 'blocks')
    mkdirSync(blocks, { recursive: true })
    for (const f of readdirSync(blocks)) writeFileSync(join(blocks, f), 'damaged')
    const second = await spawn(env)
    expect((await readAll(second.url, '')).map((e) => e.message)).toEqual(['in the log'])
    const damage = second.lines.map((l) => JSON.parse(l) as { msg: string, problem?: string }).filter((l) => l.msg === 'damage found in DATA_DIR')
    expect(damage).toHaveLength(1)
    expect(damage[0]!.problem).toMatch(/is damaged .*skipped it/)
    await stop(second)
  })
})
