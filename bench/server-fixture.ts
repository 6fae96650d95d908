import { spawn, type ChildProcess } from 'node:child_process'

/** The node flags of `npm start` (package.json). */
// BENCH_NODE_FLAGS (space-separated, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) are added to logagg's own, to profile a run.
const LOGAGG_NODE_FLAGS = ['--max-semi-space-size=4', ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '')]
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

// Starts the server under test, or one of its peers, as a child process on
// 127.0.0.1 with a free port; waits until it prints its "listening" line and
// answers GET /healthz with 200; stops it afterwards. Every child is tracked,
// and a process 'exit' handler kills whatever is still alive, so no run (even
// a failed or interrupted one) leaves a server behind.

export type TargetName = 'logagg' | 'naive' | 'raw'

/** The compiled dist/ directory (this file runs from dist/bench/). */
export const DIST = join(dirname(fileURLToPath(import.meta.url)), '..')

const SCRIPTS: Record<TargetName, string> = {
  // BENCH_LOGAGG: another build's dist/src/main.js, to measure it with this harness (before / after).
  logagg: process.env.BENCH_LOGAGG ?? join(DIST, 'src/main.js'),
  naive: join(DIST, 'bench/peers/naive.js'),
  raw: join(DIST, 'bench/peers/raw.js')
}

const LISTEN_TIMEOUT_MS = 20_000
const HEALTH_TRIES = 100
const HEALTH_INTERVAL_MS = 100
const STOP_GRACE_MS = 5_000

/** The only variables a child inherits from the suite's environment. */
// SHARD_NICE and BLOCK_CODEC too: settings an A/B run varies (bench runs the defaults otherwise).
// FRONTS as well: run the suite itself on Node 24 (tools/node24/node_modules/.bin/node dist/bench/run.js)
// and every target runs on it, logagg with that many front threads.
// And cluster mode's settings: `NATS_URL=nats://127.0.0.1:4222 node dist/bench/run.js --only=b` measures
// one instance on that NATS (start a fresh nats-server -js per run: an instance replays its stream at start).
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'SYSTEMROOT', 'SHARD_NICE', 'BLOCK_CODEC', 'FRONTS', 'NATS_URL', 'CLUSTER_NAME', 'CLUSTER_PARTITIONS', 'NATS_REPLICAS']

function baseEnv (): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of INHERITED) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

const live = new Set<ChildProcess>()
let handlersInstalled = false

/** Registers a child so it is killed if this process exits first. */
export function track (child: ChildProcess): void {
  if (!handlersInstalled) {
    handlersInstalled = true
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL')
    })
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\nbench: ${signal}, stopping child processes\n`)
        process.exit(130)
      })
    }
  }
  live.add(child)
  child.once('exit', () => live.delete(child))
}

export interface Fixture {
  readonly name: TargetName
  readonly url: string
  readonly pid: number
  /** The settings the server logged at start (logagg only; {} for peers). */
  readonly settings: Record<string, unknown>
  /** The JSON lines the server logged up to and including "listening" (logagg), parsed. */
  readonly startLines: ReadonlyArray<Record<string, unknown>>
  /** Resident set size of the child in bytes (VmRSS), or null where /proc is missing. */
  rssBytes (): number | null
  /**
   * logagg only: asks the server (SIGUSR2) to log its front thread's event-loop
   * delay since the last ask and start over; resolves with what it logged.
   */
  loopDelay (): Promise<LoopDelay | null>
  stop (): Promise<void>
}

export interface LoopDelay { maxMs: number, p99Ms: number, meanMs: number }

function waitForExit (child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

async function waitHealthy (url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < HEALTH_TRIES; i++) {
    if (child.exitCode !== null) throw new Error('exited before becoming healthy')
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (res.status === 200) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, HEALTH_INTERVAL_MS))
  }
  throw new Error(`GET /healthz did not answer 200 within ${HEALTH_TRIES * HEALTH_INTERVAL_MS} ms`)
}

/**
 * Starts `name` with extra environment (e.g. SHARDS) and resolves once it is
 * healthy. HOST, PORT and LOG_LEVEL in `env` are ignored (see below).
 */
export async function startTarget (name: TargetName, env: Record<string, string> = {}): Promise<Fixture> {
  // logagg runs as `npm start` runs it, with its V8 flags (package.json).
  const child = spawn(process.execPath, [...(name === 'logagg' ? LOGAGG_NODE_FLAGS : []), SCRIPTS[name]], {
    // A clean environment, so settings (or tokens) exported in the shell do not
    // leak into the measurement. Last, and not overridable: loopback, a free
    // port, and LOG_LEVEL=info, the level of the "listening" line waited for.
    env: { ...baseEnv(), ...env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  track(child)
  let stderrTail = ''
  let onLoopDelay: ((d: LoopDelay) => void) | null = null
  child.stderr!.on('data', (chunk: Buffer) => { stderrTail = (stderrTail + chunk.toString()).slice(-2000) })

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    if (!(await waitForExit(child, STOP_GRACE_MS))) {
      child.kill('SIGKILL')
      await waitForExit(child, STOP_GRACE_MS)
    }
  }

  const startLines: Array<Record<string, unknown>> = []
  try {
    const listening = await new Promise<{ url: string, settings: Record<string, unknown> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line within ${LISTEN_TIMEOUT_MS} ms`)), LISTEN_TIMEOUT_MS)
      const lines = createInterface({ input: child.stdout! })
      let found = false
      lines.on('line', (line) => {
        if (found) {
          // Keep draining stdout so the child never blocks on it; note event-loop reports.
          if (line.includes('"event loop delay"')) {
            try { onLoopDelay?.((JSON.parse(line) as { eventLoopDelay: LoopDelay }).eventLoopDelay) } catch {}
          }
          return
        }
        let msg: { msg?: unknown, url?: unknown, settings?: unknown }
        try { msg = JSON.parse(line) } catch { return }
        startLines.push(msg)
        if (msg.msg === 'listening' && typeof msg.url === 'string') {
          found = true
          clearTimeout(timer)
          resolve({ url: msg.url, settings: (msg.settings ?? {}) as Record<string, unknown> })
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`exited (code ${code}, signal ${signal}) before listening`))
      })
    })
    await waitHealthy(listening.url, child)
    return {
      name,
      url: listening.url,
      pid: child.pid!,
      settings: listening.settings,
      startLines,
      rssBytes: () => readRss(child.pid!),
      loopDelay: () => {
        if (name !== 'logagg' || child.exitCode !== null) return Promise.resolve(null)
        return new Promise<LoopDelay | null>((resolve) => {
          const timer = setTimeout(() => { onLoopDelay = null; resolve(null) }, 2000)
          onLoopDelay = (d) => { clearTimeout(timer); onLoopDelay = null; resolve(d) }
          child.kill('SIGUSR2')
        })
      },
      stop
    }
  } catch (err) {
    await stop()
    throw new Error(`${name} (${SCRIPTS[name]}) did not start: ${(err as Error).message}${stderrTail === '' ? '' : `\n${stderrTail}`}`)
  }
}

/** Starts `name`, runs `fn` against it, and always stops it. */
export async function withTarget<T> (name: TargetName, env: Record<string, string>, fn: (f: Fixture) => Promise<T>): Promise<T> {
  const fixture = await startTarget(name, env)
  try {
    return await fn(fixture)
  } finally {
    await fixture.stop()
  }
}

function readRss (pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Number(m[1]) * 1024
  } catch {
    return null
  }
}
