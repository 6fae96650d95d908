// Where the time of the seed's own query goes: GET /logs of one service,
// limit 1000, over random ranges of a preloaded store (1,000,000 entries over
// 50 services by default), asked one after another on one keep-alive
// connection, each timed to its full body at the socket. logagg's
// Server-Timing header splits each answer into the hop to the shard and
// back, the shard's wall time (and the part of it spent running the query),
// and the front's merge; the rest is the front's parsing, planning and
// writing, and the socket. The naive port answers the same paths in the
// same run, for the ratio the performance issue asks about.
//
//   npm run build && node dist/bench/query-phases.js [--entries=N] [--queries=N] [--corpus=bench|realistic] [--targets=logagg,naive] [--api=logs|loki]
//
// BENCH_LOGAGG=<another build's dist/src/main.js> measures that build (before / after).
//
// BENCH_NODE_FLAGS="--trace-gc" (or --cpu-prof …) is passed to logagg as for the suite.

import { Agent, request } from 'node:http'
import { parseArgs } from 'node:util'
import { planLayout, preload, rangePaths } from './preload.js'
import { lokiPath } from './scenarios/query-loki.js'
import { startTarget, type TargetName } from './server-fixture.js'
import { ThreadCpuProbe, type ThreadCpu } from './thread-cpu.js'

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '500' },
    corpus: { type: 'string', default: 'bench' },
    targets: { type: 'string', default: 'logagg,naive' },
    warmup: { type: 'string', default: '100' },
    /** logs: GET /logs; loki: the same queries as Loki query_range (1000 lines, forward; logagg only). */
    api: { type: 'string', default: 'logs' },
    /** A logagg already running (started by hand, e.g. with --trace-gc to a file): preloaded and asked, not started. */
    url: { type: 'string' }
  }
})
const entries = Number(values.entries)
const queries = Number(values.queries)
const warmup = Number(values.warmup)
const corpus = values.corpus === 'realistic' ? 'realistic' : 'bench'

interface Sample { total: number, phases: Record<string, number> }

/** One GET on `agent`'s connection: ms to the full body, and the Server-Timing durations. */
function get (agent: Agent, url: URL, path: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = request({ host: url.hostname, port: url.port, path, agent }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => { bytes += chunk.length })
      res.on('end', () => {
        const total = performance.now() - started
        if (res.statusCode !== 200 || bytes === 0) return reject(new Error(`GET ${path} answered ${res.statusCode ?? 0}`))
        const phases: Record<string, number> = {}
        for (const m of String(res.headers['server-timing'] ?? '').matchAll(/(\w+);dur=([\d.]+)(?:;desc="run ([\d.]+) ms")?/g)) {
          phases[m[1]!] = Number(m[2])
          if (m[3] !== undefined) phases.run = Number(m[3])
        }
        resolve({ total, phases })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
const row = (name: string, xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b)
  return `| ${name} | ${[0.5, 0.9, 0.99].map((p) => pct(s, p).toFixed(2)).join(' | ')} | ${s[s.length - 1]!.toFixed(2)} |`
}

const layoutOf = (): ReturnType<typeof planLayout> => corpus === 'bench' ? planLayout(entries) : planLayout(entries, 43, 'realistic', true)

async function measure (target: TargetName, paths: string[]): Promise<{ samples: Sample[], cpu: ThreadCpu | null }> {
  const fixture = values.url === undefined ? await startTarget(target) : { url: values.url, pid: 0, stop: async () => {} }
  try {
    await preload(fixture.url, layoutOf())
    const url = new URL(fixture.url)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    for (let i = 0; i < warmup; i++) await get(agent, url, paths[i % paths.length]!)
    const samples: Sample[] = []
    // CPU per query by thread, read from /proc: steadier than latency on a shared machine.
    const probe = new ThreadCpuProbe(fixture.pid, target === 'logagg' ? 2 : 0)
    probe.start()
    for (let i = 0; i < queries; i++) samples.push(await get(agent, url, paths[(i + warmup) % paths.length]!))
    const cpu = fixture.pid === 0 ? null : probe.stop(queries)
    agent.destroy()
    return { samples, cpu }
  } finally {
    await fixture.stop()
  }
}

const layout = layoutOf()
const logsPaths = rangePaths(layout, { oneService: true, expected: 1100, limit: 1000, count: queries + warmup, seed: 7 })
const paths = values.api === 'loki' ? logsPaths.map(lokiPath) : logsPaths
console.log(`${queries} one-service ${values.api === 'loki' ? 'Loki query_range' : 'GET /logs'} (limit 1000) after ${warmup} warm-up, one connection, ${entries} entries preloaded (${corpus} corpus); ms`)
console.log('\n| phase | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |')
const cpuLines: string[] = []
for (const target of (values.url === undefined && values.api !== 'loki' ? values.targets.split(',') : ['logagg']) as TargetName[]) {
  const { samples, cpu } = await measure(target, paths)
  console.log(row(`${target}: total at the socket`, samples.map((s) => s.total)))
  if (cpu !== null) cpuLines.push(`${target}: CPU µs per query: front ${cpu.frontUs.toFixed(0)}, shards ${cpu.shardsUs.toFixed(0)}, other ${cpu.otherUs.toFixed(0)}`)
  if (target !== 'logagg') continue
  for (const phase of ['hop', 'shard', 'run', 'merge']) console.log(row(`  ${phase}`, samples.map((s) => s.phases[phase] ?? 0)))
  console.log(row('  rest (front parse, plan, write; socket)', samples.map((s) => s.total - (s.phases.hop ?? 0) - (s.phases.shard ?? 0) - (s.phases.merge ?? 0))))
}
console.log('')
for (const line of cpuLines) console.log(line)
