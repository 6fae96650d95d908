import type { BenchConfig } from './config.js'
import type { LatencyStats, LoadResult } from './load.js'
import type { TargetName } from './server-fixture.js'
import type { ThreadCpu } from './thread-cpu.js'

// The shape of one benchmark run's results: what bench/results/latest.json
// holds and what the table, RESULTS.md and the charts are drawn from.

export type ScenarioId = 'a' | 'b' | 'c' | 'c1' | 'c2' | 'd' | 'd1' | 'd2' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k'

/** One scenario measured against one target. */
export interface Row {
  scenario: ScenarioId
  title: string
  target: TargetName
  connections: number
  rps: number
  /** Entries stored (ingest) or returned (queries) per second. */
  entriesPerSec: number
  latency: LatencyStats | null
  non2xx: number
  /** Socket errors and timeouts. */
  errors: number
  note: string
  /** Set when the run could not be measured at all. */
  error: string | null
  load: LoadResult | null
  /** CPU time per thread per stored entry over the measured run, where the scenario asks for it. */
  cpu: ThreadCpu | null
}

export interface GrowthPoint {
  label: string
  x: number
  /** entries/s for the shard series, p99 ms for the size series; null if it failed. */
  value: number | null
  /** True when the point is the main scenario's measurement, not a separate run. */
  reused: boolean
  non2xx: number
  error: string | null
}

export interface InProcessMemory {
  entries: number
  heapDeltaBytes: number
  rssDeltaBytes: number
  heapPerEntry: number
  rssPerEntry: number
  /** Time spent inside ShardStore.ingest only. */
  ingestSeconds: number
  /** Longest single purge() call, ms. */
  purgeMs: number
  /** purge() calls it took to drop everything (1 unless the store purges in steps). */
  purgeCalls: number
  purgeTotalMs: number
  purgeDropped: number
  /** The full collection a shard asks for once a purge has freed most of it, ms. */
  collectMs: number
}

export interface ServerRss {
  target: TargetName
  /** Which data was preloaded: the bench corpus or bench/corpus.ts. */
  corpus: 'bench' | 'realistic'
  /** True when the entries carried their `attributes` objects. */
  attributes: boolean
  entries: number
  rssBeforeBytes: number | null
  rssAfterBytes: number | null
  perEntry: number | null
  /** UTF-8 message bytes sent per entry. */
  messageBytesPerEntry: number
  /** RSS growth per entry over message bytes per entry. */
  ratio: number | null
  preloadSeconds: number
}

export interface Machine {
  cores: number
  cpuModel: string
  node: string
  platform: string
  totalMemBytes: number
  date: string
}

/** The part of the run's configuration a report records. */
export type RunSettings = Pick<BenchConfig, 'warmupS' | 'durationS' | 'preloadEntries' | 'corpusEntries' | 'corpusAttributes' | 'querySizes' | 'shardCounts' | 'memoryEntries'>

export interface Report {
  mode: 'quick' | 'full'
  /** True with --only: some parts were not run. */
  partial: boolean
  run: RunSettings
  machine: Machine
  settings: Record<string, unknown>
  rows: Row[]
  growth: {
    ingestByShards: GrowthPoint[]
    queryP99BySize: GrowthPoint[]
  }
  memory: {
    inProcess: InProcessMemory | { error: string } | null
    server: ServerRss[]
  }
  /** Problems that did not stop the run but must be seen. */
  warnings: string[]
  elapsedSeconds: number
}
