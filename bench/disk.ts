// npm run bench:disk [-- --quick]: what DATA_DIR costs, in one run.
//
//   (k) NDJSON batches of 1000 (scenario (b)) memory-only, then with DATA_DIR and FSYNC=batch,
//       interval:1s and off, rounds interleaved; ratios against memory-only
//   (l) start-up: a store preloaded into DATA_DIR, restarted: from block files (after a
//       checkpoint) and from the log alone; ms per million entries loaded
//   (m) query p99 on that store: in memory, and cold (HOT_WINDOW=1s, MAX_MEMORY a tenth
//       of the store, every block read from its file through the OS page cache)
//
// Writes bench/results/disk-<time>.json and prints a markdown table for RESULTS.md.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FULL, QUICK, type BenchConfig } from './config.js'
import { writeSection } from './sections.js'
import { BENCH_DIR } from './outputs.js'
import { planLayout, preload, type StoreLayout } from './preload.js'
import { int, machineInfo, ms } from './report.js'
import { measure } from './scenario.js'
import { batchIngest } from './scenarios/batch-ingest.js'
import { queryAllAlone } from './scenarios/query-all.js'
import { queryOneAlone } from './scenarios/query-one.js'
import { startTarget, withTarget, type Fixture } from './server-fixture.js'
import type { Row } from './types.js'

const MODES = [
  { name: 'memory only', env: null },
  { name: 'FSYNC=batch', env: 'batch' },
  { name: 'FSYNC=interval:1s', env: 'interval:1s' },
  { name: 'FSYNC=off', env: 'off' }
] as const

interface IngestResult { mode: string, rounds: number[], median: number, p99: number | null, ratio: number, non2xx: number }
interface StartupResult { source: string, entries: number, loadMs: number, wallMs: number, msPerMillion: number, bytesRead: number }
interface QueryResult { scenario: string, store: string, p50: number | null, p99: number | null, rps: number, rssBytes: number | null }

/** Entries preloaded for the log-only start-up: their log stays under the 64 MiB that starts a checkpoint. */
const WAL_ONLY_ENTRIES = 400_000

const freshDir = (): string => mkdtempSync(join(tmpdir(), 'logagg-bench-disk-'))

function du (dir: string): number {
  let n = 0
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const s = statSync(path)
    n += s.isDirectory() ? du(path) : s.size
  }
  return n
}

async function ingestModes (config: BenchConfig): Promise<IngestResult[]> {
  const rounds = new Map<string, Row[]>(MODES.map((m) => [m.name, []]))
  for (let round = 1; round <= config.ingestRounds; round++) {
    for (const mode of MODES) {
      const dir = mode.env === null ? null : freshDir()
      process.stderr.write(`bench:disk: (k) ingest, ${mode.name}, round ${round} of ${config.ingestRounds}\n`)
      try {
        const env: Record<string, string> = dir === null ? {} : { DATA_DIR: dir, FSYNC: mode.env! }
        rounds.get(mode.name)!.push(await withTarget('logagg', env, (fixture) => measure(batchIngest, { fixture, config, layout: null })))
      } finally {
        if (dir !== null) rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  const medianOf = (rows: Row[]): Row => [...rows].sort((a, b) => a.entriesPerSec - b.entriesPerSec)[Math.floor((rows.length - 1) / 2)]!
  const base = medianOf(rounds.get('memory only')!).entriesPerSec
  return MODES.map((m) => {
    const rows = rounds.get(m.name)!
    const med = medianOf(rows)
    return { mode: m.name, rounds: rows.map((r) => r.entriesPerSec), median: med.entriesPerSec, p99: med.latency?.p99 ?? null, ratio: med.entriesPerSec / base, non2xx: rows.reduce((n, r) => n + r.non2xx + r.errors, 0) }
  })
}

/** Starts logagg on `dir` and reads what it logged about loading it. */
async function restart (dir: string, env: Record<string, string>, source: string): Promise<{ fixture: Fixture, startup: StartupResult }> {
  const began = performance.now()
  const fixture = await startTarget('logagg', { DATA_DIR: dir, ...env })
  const wallMs = performance.now() - began
  const loaded = fixture.startLines.find((l) => l.msg === 'loaded DATA_DIR') as { ms: number, entries: number, bytes: number } | undefined
  if (loaded === undefined) throw new Error('logagg did not log "loaded DATA_DIR"')
  return { fixture, startup: { source, entries: loaded.entries, loadMs: loaded.ms, wallMs, msPerMillion: loaded.entries > 0 ? loaded.ms / loaded.entries * 1e6 : 0, bytesRead: loaded.bytes } }
}

async function queries (fixture: Fixture, config: BenchConfig, layout: StoreLayout, store: string, rssBytes: number | null): Promise<QueryResult[]> {
  const out: QueryResult[] = []
  for (const s of [queryOneAlone, queryAllAlone]) {
    process.stderr.write(`bench:disk: (m) ${s.title}, ${store}\n`)
    const row = await measure(s, { fixture, config, layout })
    out.push({ scenario: `(${s.id}) ${s.title}`, store, p50: row.latency?.p50 ?? null, p99: row.latency?.p99 ?? null, rps: row.rps, rssBytes })
  }
  return out
}

async function startupAndQueries (config: BenchConfig): Promise<{ startup: StartupResult[], queries: QueryResult[], storeBytes: number, entries: number }> {
  const entries = config.preloadEntries
  const layout = planLayout(entries)
  const dir = freshDir()
  const walOnly = freshDir()
  try {
    process.stderr.write(`bench:disk: (l) preloading ${int(entries)} entries into DATA_DIR twice (checkpointed, and log only)\n`)
    await withTarget('logagg', { DATA_DIR: dir, FSYNC: 'off', CHECKPOINT_INTERVAL: '1s' }, async (f) => {
      await preload(f.url, layout)
      // Let a checkpoint take everything: the start-up below then reads block files.
      await new Promise((resolve) => setTimeout(resolve, 2500))
    })
    // Below the 64 MiB at which the log is checkpointed whatever CHECKPOINT_INTERVAL says.
    await withTarget('logagg', { DATA_DIR: walOnly, FSYNC: 'off', CHECKPOINT_INTERVAL: '596h' }, (f) => preload(f.url, planLayout(Math.min(entries, WAL_ONLY_ENTRIES))))
    const storeBytes = du(dir)

    const startup: StartupResult[] = []
    const results: QueryResult[] = []
    const fromLog = await restart(walOnly, { CHECKPOINT_INTERVAL: '596h' }, 'log only (replay)')
    startup.push(fromLog.startup)
    await fromLog.fixture.stop()

    // The preloaded entries are 2 to 45 minutes old: a day's HOT_WINDOW keeps every block in memory.
    const hot = await restart(dir, { HOT_WINDOW: '24h' }, 'block files, loaded into memory')
    startup.push(hot.startup)
    try {
      results.push(...await queries(hot.fixture, config, layout, 'in memory', hot.fixture.rssBytes()))
    } finally {
      await hot.fixture.stop()
    }
    const maxMemory = Math.max(1 << 20, Math.floor(storeBytes / 10))
    const cold = await restart(dir, { HOT_WINDOW: '1s', MAX_MEMORY: String(maxMemory) }, `block files, cold (HOT_WINDOW=1s, MAX_MEMORY=${int(maxMemory)} B)`)
    startup.push(cold.startup)
    try {
      results.push(...await queries(cold.fixture, config, layout, `cold, MAX_MEMORY = store / 10 (${(maxMemory / 1048576).toFixed(1)} MiB)`, cold.fixture.rssBytes()))
    } finally {
      await cold.fixture.stop()
    }
    return { startup, queries: results, storeBytes, entries }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    rmSync(walOnly, { recursive: true, force: true })
  }
}

function markdown (ingest: IngestResult[], su: Awaited<ReturnType<typeof startupAndQueries>>, config: BenchConfig): string {
  const lines: string[] = []
  lines.push(`(k) NDJSON batches of 1000, 4 connections, ${config.durationS} s per run, median of ${config.ingestRounds} interleaved rounds`, '')
  lines.push('| mode | entries/s | vs memory only | p99 ms | rounds | non-2xx |', '| --- | ---: | ---: | ---: | --- | ---: |')
  for (const r of ingest) lines.push(`| ${r.mode} | ${int(r.median)} | ${r.ratio.toFixed(2)}× | ${ms(r.p99)} | ${r.rounds.map(int).join(', ')} | ${r.non2xx} |`)
  lines.push('', `(l) start-up with ${int(su.entries)} entries stored (${(su.storeBytes / 1048576).toFixed(1)} MiB in DATA_DIR after a checkpoint)`, '')
  lines.push('| loaded from | entries | load ms | ms per million entries | bytes read | process start to healthy, ms |', '| --- | ---: | ---: | ---: | ---: | ---: |')
  for (const s of su.startup) lines.push(`| ${s.source} | ${int(s.entries)} | ${int(s.loadMs)} | ${int(s.msPerMillion)} | ${int(s.bytesRead)} | ${int(s.wallMs)} |`)
  lines.push('', '(m) queries on that store, one connection', '')
  lines.push('| scenario | store | req/s | p50 ms | p99 ms | server RSS |', '| --- | --- | ---: | ---: | ---: | ---: |')
  for (const q of su.queries) lines.push(`| ${q.scenario} | ${q.store} | ${q.rps.toFixed(0)} | ${ms(q.p50)} | ${ms(q.p99)} | ${q.rssBytes === null ? 'n/a' : `${(q.rssBytes / 1048576).toFixed(0)} MiB`} |`)
  return lines.join('\n')
}

async function main (): Promise<void> {
  const quick = process.argv.includes('--quick')
  const config: BenchConfig = quick ? { ...QUICK, durationS: 2, warmupS: 0.5 } : { ...FULL }
  const m = machineInfo()
  process.stderr.write(`bench:disk: ${quick ? 'quick' : 'full'} run; ${m.cores} cores (${m.cpuModel}), Node ${m.node}\n`)
  const started = performance.now()
  const ingest = await ingestModes(config)
  const su = await startupAndQueries(config)
  const table = markdown(ingest, su, config)
  const out = { mode: quick ? 'quick' : 'full', machine: m, date: new Date().toISOString(), ingest, startup: su.startup, queries: su.queries, storeBytes: su.storeBytes, elapsedS: (performance.now() - started) / 1000 }
  const dir = join(BENCH_DIR, 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `disk-${out.date.replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
  // A full run is the record (bench/RESULTS.md); a quick one goes next to the other quick results.
  const heading = `## DATA_DIR (bench:disk, ${quick ? 'quick' : 'full'} run, ${out.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cores} cores, Node ${m.node})`
  const notes = 'The OS page cache was warm for the cold reads (the files had just been written or read); a cache dropped by memory pressure adds a disk read per block.'
  writeSection(quick ? join(dir, 'RESULTS-disk-quick.md') : join(BENCH_DIR, 'RESULTS.md'), 'disk', `${heading}\n\n${table}\n\n${notes}`)
  console.log(table)
  console.log(`\nbench:disk: done in ${out.elapsedS.toFixed(0)} s; wrote ${file}`)
  const bad = ingest.filter((r) => r.non2xx > 0)
  if (bad.length > 0) {
    process.stderr.write(`bench:disk: non-2xx answers in ${bad.map((r) => r.mode).join(', ')}\n`)
    process.exitCode = 1
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:disk: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
