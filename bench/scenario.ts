import type { BenchConfig } from './config.js'
import { runLoad, type TaggedRequest } from './load.js'
import type { StoreLayout } from './preload.js'
import type { Fixture, TargetName } from './server-fixture.js'
import { ThreadCpuProbe } from './thread-cpu.js'
import type { Row, ScenarioId } from './types.js'

// What every file in bench/scenarios/ exports, and the one function that
// measures a scenario against a running target and turns it into a table row.

export interface Workload {
  /** The request rotation; built anew for each autocannon run. */
  requests: () => TaggedRequest[]
  /** Entries one 2xx answer of each kind stands for (stored or returned). */
  entriesPerKind: Record<string, number>
  note?: string
  /** Runs after the measured run (closing what prepare opened); what it returns joins the note. */
  finish?: () => Promise<string | undefined>
}

export interface ScenarioContext {
  fixture: Fixture
  config: BenchConfig
  /** The preloaded store, for scenarios that query one. */
  layout: StoreLayout | null
}

export interface Scenario {
  id: ScenarioId
  title: string
  connections: number
  /** The targets that implement what the scenario needs (raw has no queries). */
  targets: readonly TargetName[]
  /** Runs against the preloaded store instead of a fresh server. */
  preloaded: boolean
  /** Read the server's CPU time per thread around the measured run (bench/thread-cpu.ts). */
  threadCpu?: boolean
  /** Which preloaded store: the bench corpus (the default) or the realistic one (bench/corpus.ts). */
  store?: StoreLayout['corpus']
  prepare: (ctx: ScenarioContext) => Promise<Workload>
  /** Extra environment for the target (a fresh server per round), e.g. a syslog port. */
  env?: () => Promise<Record<string, string>>
  /** Measures without autocannon (a protocol it does not speak); prepare is then not called. */
  run?: (ctx: ScenarioContext, durationS: number) => Promise<Row>
}

export function failedRow (s: Scenario, target: TargetName, err: unknown): Row {
  return {
    scenario: s.id,
    title: s.title,
    target,
    connections: s.connections,
    rps: 0,
    entriesPerSec: 0,
    latency: null,
    non2xx: 0,
    errors: 0,
    note: '',
    error: err instanceof Error ? err.message : String(err),
    load: null,
    cpu: null
  }
}

/** Prepares `s` against the running target, drives it with autocannon, and returns its row. */
export async function measure (s: Scenario, ctx: ScenarioContext, durationS = ctx.config.durationS): Promise<Row> {
  if (s.run !== undefined) return await s.run(ctx, durationS)
  const workload = await s.prepare(ctx)
  const shards = ctx.fixture.settings.shards
  const probe = s.threadCpu === true ? new ThreadCpuProbe(ctx.fixture.pid, typeof shards === 'number' ? shards : 0) : null
  const load = await runLoad({
    url: ctx.fixture.url,
    connections: s.connections,
    durationS,
    warmupS: ctx.config.warmupS,
    requests: workload.requests,
    onMeasuredStart: () => {
      probe?.start()
      if (probe !== null) ctx.fixture.loopDelay().catch(() => null)
    }
  })
  const loop = probe === null ? null : await ctx.fixture.loopDelay()
  let entries = 0
  for (const [kind, ok] of Object.entries(load.okByKind)) entries += ok * (workload.entriesPerKind[kind] ?? 0)
  const cpu = probe?.stop(entries) ?? null
  const notes = workload.note === undefined ? [] : [workload.note]
  const finished = await workload.finish?.()
  if (finished !== undefined) notes.push(finished)
  if (loop !== null) notes.push(`front event loop held up at most ${loop.maxMs} ms (p99 ${loop.p99Ms} ms)`)
  const kinds = Object.entries(load.byKind)
  if (kinds.length > 1) {
    // Mixed rotations: each kind's own rate and tail.
    for (const [kind, stats] of kinds) notes.push(`${kind} ${(stats.count / load.durationS).toFixed(1)}/s, p99 ${stats.p99.toFixed(1)} ms`)
  }
  return {
    scenario: s.id,
    title: s.title,
    target: ctx.fixture.name,
    connections: s.connections,
    rps: load.rps,
    entriesPerSec: load.durationS > 0 ? entries / load.durationS : 0,
    latency: load.latency,
    non2xx: load.non2xx + load.warmupNon2xx,
    errors: load.errors + load.timeouts,
    note: notes.join('; '),
    error: null,
    load,
    cpu
  }
}
