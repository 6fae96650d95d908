// Run settings for the full suite and for --quick (which must finish in under
// 90 s on a 2-core machine, build included: 0.5 s warm-up + 2.5 s per run,
// 200k-entry stores, no 3M point), and the command-line parsing.

export interface BenchConfig {
  quick: boolean
  warmupS: number
  durationS: number
  /** Entries preloaded for the query scenarios (c), (d), (e). */
  preloadEntries: number
  /** Store sizes for the (d) query p99 growth series. */
  querySizes: number[]
  /** SHARDS values for the (b) ingest growth series. */
  shardCounts: number[]
  /** Entries the in-process memory probe ingests and purges. */
  memoryEntries: number
  batchSize: number
  /** Pause after a preload before the server's RSS is read. */
  rssSettleMs: number
  /** Page size of the query scenarios. */
  limit: number
  /**
   * Rounds of each ingest scenario, the targets interleaved in each round;
   * the row kept per target is its median round, so one noisy run on this
   * shared machine does not decide a ratio.
   */
  ingestRounds: number
  /** Run only these parts (scenario letters, "growth", "memory"); null runs everything. */
  only: Set<string> | null
}

export const FULL: Readonly<BenchConfig> = Object.freeze({
  quick: false,
  warmupS: 2,
  durationS: 10,
  preloadEntries: 1_000_000,
  querySizes: [100_000, 1_000_000, 3_000_000],
  shardCounts: [1, 2, 4],
  memoryEntries: 1_000_000,
  batchSize: 1000,
  rssSettleMs: 1000,
  limit: 1000,
  ingestRounds: 3,
  only: null
})

export const QUICK: Readonly<BenchConfig> = Object.freeze({
  ...FULL,
  quick: true,
  warmupS: 0.5,
  durationS: 2.5,
  rssSettleMs: 300,
  ingestRounds: 1,
  preloadEntries: 200_000,
  querySizes: [100_000, 200_000],
  memoryEntries: 200_000
})

export const PARTS = ['a', 'b', 'c', 'c1', 'd', 'd1', 'e', 'growth', 'memory'] as const

export function usage (): string {
  return [
    'Usage: npm run bench [-- --quick] [-- --only=a,b,c,c1,d,d1,e,growth,memory]',
    '  --quick   short runs and smaller stores (under 90 s in all)',
    '  --only    run only some parts; RESULTS.md is then not rewritten'
  ].join('\n')
}

export function parseArgs (argv: readonly string[]): BenchConfig {
  let config: BenchConfig = { ...FULL }
  for (const arg of argv) {
    if (arg === '--quick') config = { ...QUICK, only: config.only }
    else if (arg.startsWith('--only=')) {
      const parts = arg.slice('--only='.length).split(',').filter((p) => p !== '')
      const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p))
      if (unknown.length > 0 || parts.length === 0) throw new Error(`--only takes a list of ${PARTS.join(', ')}; got ${JSON.stringify(arg)}\n${usage()}`)
      config.only = new Set(parts)
    } else if (arg === '--help' || arg === '-h') {
      console.log(usage())
      process.exit(0)
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${usage()}`)
  }
  return config
}

export function wants (config: BenchConfig, part: string): boolean {
  return config.only === null || config.only.has(part)
}
