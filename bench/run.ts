// npm run bench [-- --quick]: the benchmark suite's entry point.
//
//   run.ts ── suite.ts ── scenarios/(a..e) ── load.ts (autocannon) ──► child: logagg | naive | raw
//      │          └── server-fixture.ts: spawn on 127.0.0.1:0, wait for /healthz, always kill
//      ├── scenarios/growth.ts (SHARDS 1/2/4, store size) and scenarios/memory.ts (+ memory-probe.ts)
//      └── report.ts / markdown.ts / svg.ts / outputs.ts: table on stdout, results/, RESULTS.md, charts/
//
// Progress goes to stderr, the results table to stdout. The exit code is 1 if
// anything failed or any request got a non-2xx answer or a socket error.
import { availableParallelism } from 'node:os'
import { parseArgs, wants, type BenchConfig } from './config.js'
import { writeOutputs } from './outputs.js'
import { Progress } from './progress.js'
import { machineInfo, problems, summaryLines, textTable } from './report.js'
import { extraTables } from './report-tables.js'
import { growthShardsInUse, planSteps, runScenarios } from './suite.js'
import { shardGrowth, sizeGrowth } from './scenarios/growth.js'
import { inProcessMemory } from './scenarios/memory.js'
import type { Report } from './types.js'

function emptyReport (config: BenchConfig): Report {
  return {
    mode: config.quick ? 'quick' : 'full',
    partial: config.only !== null,
    run: {
      warmupS: config.warmupS,
      durationS: config.durationS,
      preloadEntries: config.preloadEntries,
      corpusEntries: config.corpusEntries,
      corpusAttributes: config.corpusAttributes,
      querySizes: config.querySizes,
      shardCounts: config.shardCounts,
      memoryEntries: config.memoryEntries
    },
    machine: machineInfo(),
    settings: {},
    rows: [],
    growth: { ingestByShards: [], queryP99BySize: [] },
    memory: { inProcess: null, server: [] },
    warnings: [],
    elapsedSeconds: 0
  }
}

async function runAll (config: BenchConfig, progress: Progress, report: Report): Promise<void> {
  await runScenarios(config, progress, report)
  if (wants(config, 'growth')) {
    const mainB = report.rows.find((r) => r.scenario === 'b' && r.target === 'logagg')
    const mainD = report.rows.find((r) => r.scenario === 'd' && r.target === 'logagg')
    report.growth.ingestByShards = await shardGrowth(config, progress, mainB, growthShardsInUse(report))
    report.growth.queryP99BySize = await sizeGrowth(config, progress, mainD)
  }
  if (wants(config, 'memory')) {
    progress.begin('memory')
    try {
      report.memory.inProcess = await inProcessMemory(config.memoryEntries)
    } catch (err) {
      report.memory.inProcess = { error: (err as Error).message }
    }
  }
  progress.end()
}

async function main (): Promise<number> {
  const config = parseArgs(process.argv.slice(2))
  const progress = new Progress(planSteps(config))
  const report = emptyReport(config)
  const m = report.machine
  process.stderr.write(
    `bench: ${report.mode} run${report.partial ? ` (only ${[...config.only!].join(',')})` : ''}, ${progress.total} steps, ` +
    `~${Math.ceil(progress.estimateS / 60)} min estimated; ${m.cores} cores (${m.cpuModel}), Node ${m.node}, ` +
    `availableParallelism ${availableParallelism()}; servers on 127.0.0.1\n`
  )
  const started = performance.now()
  await runAll(config, progress, report)
  report.elapsedSeconds = (performance.now() - started) / 1000

  const written = writeOutputs(report)
  console.log('')
  console.log(textTable(report))
  console.log('')
  for (const line of extraTables(report)) console.log(line)
  for (const line of summaryLines(report)) console.log(line)
  console.log('')
  console.log(`bench: done in ${report.elapsedSeconds.toFixed(0)} s; wrote ${written.map((p) => p.replace(process.cwd() + '/', '')).join(', ')}`)

  const issues = problems(report)
  if (issues.length > 0) {
    const bar = '!'.repeat(78)
    process.stderr.write(`\n${bar}\n!!! ${issues.length} PROBLEM${issues.length === 1 ? '' : 'S'}: the results above are not clean\n${bar}\n`)
    for (const issue of issues) process.stderr.write(`!!! ${issue}\n`)
    process.stderr.write(`${bar}\n`)
    return 1
  }
  return 0
}

main().then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  }
)
