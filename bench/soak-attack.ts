// `npm run soak -- --attack` (issue 7): 60 s of normal NDJSON batch clients
// alongside the attack mix of bench/attacks.ts, against the real server on
// loopback (SHARDS=2), while /healthz is polled every 100 ms.
//
//   normal clients ──┐                         ┌── /healthz every 100 ms: worst latency
//   python-style ────┤                         │
//   pipelined, unread┼──► logagg 127.0.0.1 ◄───┘ (from its own process: bench/health-poller.ts)
//   100k services ───┤        │
//   abandoned queries┤        └── afterwards: every acknowledged normal entry
//   cross-origin ────┤            read back by cursor, exactly once
//   metric explosion ┤  (issue 18: 3000 series × 11,000 points, topk over them)
//   50 unread tails ─┤  (issue 18: paused SSE tails while 4 MiB batches arrive)
//   deep JSON ───────┘  (issue 18: 10,000 levels, queried and posted)
//
// PASS only if every /healthz answered within 200 ms, nothing acknowledged
// was lost or duplicated, and no attack got a 5xx other than a 503 or 507. Settings that harden the server (MAX_SERVICES, ...)
// are passed through from the environment (see PASSED_THROUGH).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { abandonedQueries, crossOrigin, deepJson, manyServices, metricExplosion, pipelinedUnread, pythonStyle, unreadTails, type AttackTarget, type Tally } from './attacks.js'
import { startTarget } from './server-fixture.js'

const LOAD_MS = Number(process.env.SOAK_ATTACK_MS ?? 60_000)
const HEALTH_EVERY_MS = 100
const HEALTH_LIMIT_MS = 200
const NORMAL_CLIENTS = 4
const NORMAL_SERVICES = 10
const BATCH = 250
/** The normal clients stop at this many acknowledged entries, to bound memory. */
const MAX_ACKED = 600_000
/** The whole run, read-back included, is cut off after this. */
const HARD_LIMIT_MS = LOAD_MS + 120_000
/** Server settings read from the environment, if set, besides SHARDS=2 (which may be overridden). */
const PASSED_THROUGH = /^(SHARDS|MAX_[A-Z_]+|QUERY_[A-Z_]+|WRITE_TIMEOUT|ALLOWED_HOSTS|CORS_ORIGIN|QUEUE_LIMIT|REQUEST_TIMEOUT|HEADERS_TIMEOUT|KEEP_ALIVE_TIMEOUT|RETENTION|PURGE_INTERVAL|LOGAGG_[A-Z_]+)$/

function serverEnv (): Record<string, string> {
  const env: Record<string, string> = { SHARDS: '2' }
  for (const [k, v] of Object.entries(process.env)) if (PASSED_THROUGH.test(k) && v !== undefined) env[k] = v
  return env
}

const normalService = (i: number): string => `norm-${i % NORMAL_SERVICES}`

export async function attackSoak (): Promise<number> {
  const hard = setTimeout(() => { console.error('soak --attack: hard time limit reached'); process.exit(1) }, HARD_LIMIT_MS)
  hard.unref()
  const env = serverEnv()
  const server = await startTarget('logagg', env)
  const port = Number(new URL(server.url).port)
  const startedAt = Date.now()
  const until = startedAt + LOAD_MS
  const target: AttackTarget = { url: server.url, port, until }
  const acked = new Set<string>()
  const normal: Tally = {}
  const attacks: Record<string, Tally> = { 'python-style NDJSON': {}, 'pipelined unread GETs': {}, '100k services': {}, 'abandoned heavy queries': {}, 'cross-origin posts': {}, 'metric explosion': {}, '50 unread tails': {}, 'deep JSON': {} }
  const health = { polls: 0, worstMs: 0, slow: 0, failed: 0, slowAt: [] as number[], ownLagMs: 0 }
  const clientLag = monitorEventLoopDelay({ resolution: 10 })
  clientLag.enable()

  // /healthz is polled from a process of its own (bench/health-poller.ts), so the figure is the server's.
  const poll = async (): Promise<void> => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./health-poller.js', import.meta.url)), server.url, String(LOAD_MS), String(HEALTH_EVERY_MS), String(HEALTH_LIMIT_MS)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    await once(child, 'exit')
    try {
      Object.assign(health, JSON.parse(out) as typeof health)
    } catch {
      health.failed++
    }
  }

  const normalClient = async (c: number): Promise<void> => {
    for (let b = 0; Date.now() < until && acked.size < MAX_ACKED && b < 100_000; b++) {
      const ids: string[] = []
      const lines: string[] = []
      const ts = new Date().toISOString()
      for (let i = 0; i < BATCH; i++) {
        const id = `n${c}-${b}-${i}`
        ids.push(id)
        lines.push(JSON.stringify({ service: normalService(c * 7 + i), timestamp: ts, message: `${id} GET /api/v1/items?page=${i} 200` }))
      }
      try {
        const res = await fetch(`${server.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n'), signal: AbortSignal.timeout(30_000) })
        await res.arrayBuffer()
        normal[res.status] = (normal[res.status] ?? 0) + 1
        if (res.status === 201) for (const id of ids) acked.add(id)
      } catch (err) {
        normal[(err as Error).name] = (normal[(err as Error).name] ?? 0) + 1
      }
      await sleep(10)
    }
  }

  try {
    process.stderr.write(`soak --attack: ${LOAD_MS / 1000} s of normal clients and attacks against ${server.url} (${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})\n`)
    const poller = poll()
    const runs: Record<string, () => Promise<void>> = {
      'python-style NDJSON': () => pythonStyle(target, attacks['python-style NDJSON']!),
      'pipelined unread GETs': () => pipelinedUnread(target, attacks['pipelined unread GETs']!),
      '100k services': () => manyServices(target, attacks['100k services']!),
      'abandoned heavy queries': () => abandonedQueries(target, attacks['abandoned heavy queries']!),
      'cross-origin posts': () => crossOrigin(target, attacks['cross-origin posts']!),
      'metric explosion': () => metricExplosion(target, attacks['metric explosion']!),
      '50 unread tails': () => unreadTails(target, attacks['50 unread tails']!),
      'deep JSON': () => deepJson(target, attacks['deep JSON']!)
    }
    // SOAK_ONLY (a comma list of words from the names above) runs only those attacks: to find which one a slow /healthz comes from.
    const only = (process.env.SOAK_ONLY ?? '').split(',').map((w) => w.trim().toLowerCase()).filter((w) => w !== '')
    const chosen = Object.keys(runs).filter((name) => only.length === 0 || only.some((w) => name.toLowerCase().includes(w)))
    for (const name of Object.keys(attacks)) if (!chosen.includes(name)) delete attacks[name]
    await Promise.all([
      ...Array.from({ length: NORMAL_CLIENTS }, (_, c) => normalClient(c)),
      ...chosen.map((name) => runs[name]!())
    ])
    await poller
    clientLag.disable()
    const loadSeconds = (Date.now() - startedAt) / 1000

    process.stderr.write(`soak --attack: reading back ${acked.size} acknowledged entries\n`)
    const back = await readBack(server.url, startedAt, acked)
    const missing = acked.size - back.seen
    // No attack may get a 5xx but the refusals a client is told to retry (503 busy, 507 store full, both with Retry-After).
    const serverErrors = Object.entries(attacks).flatMap(([name, tally]) => Object.entries(tally).filter(([k]) => /^5\d\d$/.test(k) && k !== '503' && k !== '507').map(([k, v]) => `${name}: ${v}× ${k}`))
    const checks: Array<[string, boolean]> = [
      [`no attack got a 5xx${serverErrors.length === 0 ? '' : ` (${serverErrors.join(', ')})`}`, serverErrors.length === 0],
      [`every /healthz answered 200 within ${HEALTH_LIMIT_MS} ms`, health.slow === 0 && health.failed === 0 && health.polls > 0],
      ['every acknowledged entry was read back', missing === 0 && back.complete],
      ['no entry came back twice', back.duplicates === 0]
    ]
    console.log(`\nAttack soak results (loopback, ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})`)
    console.log(`  load phase               ${loadSeconds.toFixed(1)} s`)
    console.log(`  /healthz                 ${health.polls} polls, worst ${health.worstMs.toFixed(0)} ms, ${health.slow} over ${HEALTH_LIMIT_MS} ms${health.slow > 0 ? ` (at ${health.slowAt.join(', ')} s)` : ''}, ${health.failed} failed; the poller's own event-loop delay max ${health.ownLagMs} ms`)
    console.log(`  client event-loop delay  max ${(clientLag.max / 1e6).toFixed(0)} ms (the load generator's own stalls, for reading the figure above)`)
    console.log(`  normal clients           ${acked.size} entries acknowledged; answers ${JSON.stringify(normal)}`)
    console.log(`  read back                ${back.seen} distinct, ${missing} missing, ${back.duplicates} duplicated, ${back.unknown} not acknowledged (a batch whose answer never came)${back.complete ? '' : ` (INCOMPLETE: ${back.error})`}`)
    for (const [name, tally] of Object.entries(attacks)) console.log(`  ${name.padEnd(24)} ${JSON.stringify(tally)}`)
    console.log(`  server RSS at the end    ${((server.rssBytes() ?? 0) / 1048576).toFixed(0)} MiB`)
    for (const [name, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}`)
    const pass = checks.every(([, ok]) => ok)
    console.log(`\nsoak --attack: ${pass ? 'PASS' : 'FAIL'} in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`)
    return pass ? 0 : 1
  } finally {
    await server.stop()
  }
}

interface ReadBack { seen: number, duplicates: number, unknown: number, complete: boolean, error: string }

/** Pages through the normal services by cursor; every id counted once. */
async function readBack (url: string, startedAt: number, acked: ReadonlySet<string>): Promise<ReadBack> {
  const seen = new Set<string>()
  const out: ReadBack = { seen: 0, duplicates: 0, unknown: 0, complete: false, error: '' }
  const services = Array.from({ length: NORMAL_SERVICES }, (_, i) => `service=${normalService(i)}`).join('&')
  const range = `start=${new Date(startedAt - 60_000).toISOString()}&end=${new Date(Date.now() + 60_000).toISOString()}`
  let cursor: string | null = null
  try {
    for (let page = 0, retries = 0; page < 10_000; page++) {
      const res: Response = await fetch(`${url}/logs?${services}&limit=10000&${range}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { signal: AbortSignal.timeout(60_000) })
      // A 503 with Retry-After (queries still draining) is retried, as a client would, a bounded number of times.
      if (res.status === 503 && res.headers.has('retry-after') && retries++ < 30) {
        await res.arrayBuffer()
        await new Promise((resolve) => setTimeout(resolve, 1000 * Number(res.headers.get('retry-after'))))
        page--
        continue
      }
      if (res.status !== 200) throw new Error(`GET /logs answered ${res.status}: ${(await res.text()).slice(0, 200)}`)
      const body = await res.json() as { logs: Array<{ message: string }>, next: string | null }
      for (const e of body.logs) {
        const id = e.message.slice(0, e.message.indexOf(' '))
        if (!acked.has(id)) out.unknown++
        else if (seen.has(id)) out.duplicates++
        seen.add(id)
      }
      cursor = body.next
      if (cursor === null) {
        out.complete = true
        break
      }
    }
  } catch (err) {
    out.error = (err as Error).message
  }
  out.seen = [...seen].filter((id) => acked.has(id)).length
  return out
}
