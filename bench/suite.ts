import { availableParallelism } from 'node:os'
import { wants, type BenchConfig } from './config.js'
import { planLayout, preload, type StoreLayout } from './preload.js'
import type { PlannedStep, Progress } from './progress.js'
import { failedRow, measure, type Scenario } from './scenario.js'
import { batchIngest } from './scenarios/batch-ingest.js'
import { serverRss } from './scenarios/memory.js'
import { mixed } from './scenarios/mixed.js'
import { queryAll, queryAllAlone, queryAllCorpus } from './scenarios/query-all.js'
import { queryOne, queryOneAlone, queryOneCorpus } from './scenarios/query-one.js'
import { lokiQueryRange } from './scenarios/query-loki.js'
import { esBulk, syslogTcp, tailFanout } from './scenarios/more-ingest.js'
import { lokiIngest, otlpIngest } from './scenarios/push-ingest.js'
import { singlePost } from './scenarios/single-post.js'
import { withTarget, type TargetName } from './server-fixture.js'
import type { Report, Row } from './types.js'

// The order the suite runs in, and the plan (with time estimates) that the
// progress line counts down. Ingest scenarios get a fresh server per target;
// the query scenarios share one server per target and store (the bench corpus,
// then the realistic one), preloaded once over HTTP; the RSS growth of every
// preload is recorded ("corpus" asks for the realistic one without queries).

export const SCENARIOS: readonly Scenario[] = [singlePost, batchIngest, lokiIngest, otlpIngest, tailFanout, esBulk, syslogTcp, queryOne, queryOneAlone, queryAll, queryAllAlone, mixed, queryOneCorpus, queryAllCorpus, lokiQueryRange]

type Store = StoreLayout['corpus']
const STORES: readonly Store[] = ['bench', 'realistic']
const storeOf = (s: Scenario): Store => s.store ?? 'bench'

/** Rough preload rates on a 2-core machine, for the estimates only. */
const PRELOAD_RATE: Record<TargetName, number> = { logagg: 150_000, naive: 80_000, raw: 200_000 }
const START_STOP_S = 1.5

export function preloadTargets (config: BenchConfig, store: Store): TargetName[] {
  if (store === 'realistic' && wants(config, 'corpus')) return ['logagg', 'naive']
  const scenarios = SCENARIOS.filter((s) => s.preloaded && storeOf(s) === store && wants(config, s.id))
  return (['logagg', 'naive'] as const).filter((t) => scenarios.some((s) => s.targets.includes(t)))
}

function preloadedScenarios (config: BenchConfig, store: Store, target: TargetName): Scenario[] {
  return SCENARIOS.filter((s) => s.preloaded && storeOf(s) === store && wants(config, s.id) && s.targets.includes(target))
}

function storeLayout (config: BenchConfig, store: Store): StoreLayout {
  return store === 'bench' ? planLayout(config.preloadEntries) : planLayout(config.corpusEntries, 43, 'realistic', config.corpusAttributes)
}

/** The default SHARDS of logagg on this machine, when it is one of the growth points (so (b) is reused). */
export function reusedShards (config: BenchConfig): number | null {
  const n = availableParallelism()
  return wants(config, 'b') && config.shardCounts.includes(n) ? n : null
}

export function planSteps (config: BenchConfig): PlannedStep[] {
  const run = config.warmupS + config.durationS + START_STOP_S
  const steps: PlannedStep[] = []
  for (const s of SCENARIOS.filter((s) => !s.preloaded && wants(config, s.id))) {
    for (let round = 1; round <= config.ingestRounds; round++) {
      const of = config.ingestRounds > 1 ? ` (round ${round} of ${config.ingestRounds})` : ''
      for (const t of s.targets) steps.push({ key: `${s.id}:${t}:${round}`, label: `(${s.id}) ${s.title} → ${t}${of}`, estimateS: run })
    }
  }
  for (const store of STORES) {
    const entries = store === 'bench' ? config.preloadEntries : config.corpusEntries
    // The realistic corpus is generated on the fly and its messages are 2.5× longer: about half the rate.
    const slower = store === 'bench' ? 1 : 2
    for (const t of preloadTargets(config, store)) {
      steps.push({ key: `preload:${store}:${t}`, label: `preload ${entries.toLocaleString('en-US')} ${store} entries → ${t}`, estimateS: START_STOP_S + slower * entries / PRELOAD_RATE[t] })
      for (const s of preloadedScenarios(config, store, t)) {
        steps.push({ key: `${s.id}:${t}`, label: `(${s.id}) ${s.title} → ${t}`, estimateS: run - START_STOP_S })
      }
    }
  }
  if (wants(config, 'growth')) {
    const shards = reusedShards(config)
    for (const n of config.shardCounts.filter((n) => n !== shards)) {
      steps.push({ key: `shards:${n}`, label: `growth: (b) with SHARDS=${n} → logagg`, estimateS: run })
    }
    const reusedSize = wants(config, 'd') ? config.preloadEntries : null
    for (const size of config.querySizes.filter((n) => n !== reusedSize)) {
      steps.push({ key: `size:${size}`, label: `growth: (d) with ${size.toLocaleString('en-US')} stored → logagg`, estimateS: run + size / PRELOAD_RATE.logagg })
    }
  }
  if (wants(config, 'memory')) {
    steps.push({ key: 'memory', label: `memory: ShardStore with ${config.memoryEntries.toLocaleString('en-US')} entries`, estimateS: 2 + config.memoryEntries / 100_000 })
  }
  return steps
}

/** Runs every wanted scenario against every target it supports, adding rows (and server RSS) to `report`. */
export async function runScenarios (config: BenchConfig, progress: Progress, report: Report): Promise<void> {
  for (const s of SCENARIOS.filter((s) => !s.preloaded && wants(config, s.id))) {
    const rounds = new Map<TargetName, Row[]>(s.targets.map((t) => [t, []]))
    for (let round = 1; round <= config.ingestRounds; round++) {
      for (const target of s.targets) {
        progress.begin(`${s.id}:${target}:${round}`)
        try {
          rounds.get(target)!.push(await withTarget(target, s.env === undefined ? {} : await s.env(), async (fixture) => {
            if (target === 'logagg' && Object.keys(report.settings).length === 0) report.settings = fixture.settings
            return await measure(s, { fixture, config, layout: null })
          }))
        } catch (err) {
          rounds.get(target)!.push(failedRow(s, target, err))
        }
      }
    }
    for (const target of s.targets) report.rows.push(medianRow(rounds.get(target)!))
  }

  for (const store of STORES) {
    for (const target of preloadTargets(config, store)) await runPreloaded(config, progress, report, store, target)
  }
}

/** One server of `target` preloaded with `store`: its RSS growth, then every wanted scenario on it. */
async function runPreloaded (config: BenchConfig, progress: Progress, report: Report, store: Store, target: TargetName): Promise<void> {
  const scenarios = preloadedScenarios(config, store, target)
  progress.begin(`preload:${store}:${target}`)
  const done = new Set<Scenario>()
  try {
    await withTarget(target, {}, async (fixture) => {
      if (target === 'logagg' && Object.keys(report.settings).length === 0) report.settings = fixture.settings
      const layout = storeLayout(config, store)
      report.memory.server.push(await serverRss(fixture, layout, config.rssSettleMs, () => preload(fixture.url, layout)))
      for (const s of scenarios) {
        progress.begin(`${s.id}:${target}`)
        done.add(s)
        try {
          report.rows.push(await measure(s, { fixture, config, layout }))
        } catch (err) {
          report.rows.push(failedRow(s, target, err))
        }
      }
    })
  } catch (err) {
    // The server did not start, or the preload failed: every scenario not yet run fails with it.
    report.warnings.push(`preload of the ${store} corpus into ${target} failed: ${(err as Error).message}`)
    for (const s of scenarios.filter((s) => !done.has(s))) report.rows.push(failedRow(s, target, err))
  }
}

/**
 * The round with the median entries/s (a failed round counts as the lowest),
 * its note listing every round; non-2xx and errors are summed over all rounds.
 */
export function medianRow (rows: Row[]): Row {
  if (rows.length === 1) return rows[0]!
  const sorted = [...rows].sort((a, b) => (a.error === null ? a.entriesPerSec : -1) - (b.error === null ? b.entriesPerSec : -1))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!
  // A failed round says why, so a run with one does not hide the cause behind the median.
  const all = rows.map((r) => (r.error === null ? Math.round(r.entriesPerSec).toLocaleString('en-US') : `failed: ${r.error}`)).join(', ')
  return {
    ...median,
    non2xx: rows.reduce((n, r) => n + r.non2xx, 0),
    errors: rows.reduce((n, r) => n + r.errors, 0),
    note: `${median.note}; median of ${rows.length} rounds (entries/s ${all})`
  }
}

/** The SHARDS the main logagg runs used, as logagg logged it at start. */
export function growthShardsInUse (report: Report): number | null {
  const shards = report.settings.shards
  return typeof shards === 'number' ? shards : null
}
