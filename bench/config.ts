// Run settings for the full suite and for --quick (which must finish in under
// 90 s on a 2-core machine, build included: 0.5 s warm-up + 2.5 s per run,
// 200k-entry stores, no 3M point), and the command-line parsing.

export interface BenchConfig {
  quick: boolean
  warmupS: number
  durationS: number
  /** Entries preloaded for the query scenarios (c), (d), (e). */
  preloadEntries: number
  /** Realistic-corpus entries (bench/corpus.ts) preloaded for its memory figure and (c2), (d2). */
  corpusEntries: number
  /** Send the realistic corpus's per-entry attributes. */
  corpusAttributes: boolean
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
  /** Run only these parts (scenario ids, "corpus", "growth", "memory"); null runs everything. */
  only: Set<string> | null
}

export const FULL: Readonly<BenchConfig> = Object.freeze({
  quick: false,
  warmupS: 2,
  durationS: 10,
  preloadEntries: 1_000_000,
  corpusEntries: 1_000_000,
  corpusAttributes: true,
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
  corpusEntries: 200_000,
  querySizes: [100_000, 200_000],
  memoryEntries: 200_000
})

export const PARTS = ['a', 'b', 'c', 'c1', 'c2', 'd', 'd1', 'd2', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'corpus', 'growth', 'memory'] as const

export function usage (): string {
  return [
    `Usage: npm run bench [-- --quick] [-- --only=${PARTS.join(',')}] [-- --preload=N --corpus=N --no-attributes]`,
    '  --quick          short runs and smaller stores (under 90 s in all)',
    '  --only           run only some parts; RESULTS.md is then not rewritten',
    '                   (corpus: server RSS on the realistic corpus; c2, d2: (c1), (d1) on it;',
    '                   k: (c1) as a Loki query_range; BENCH_LOGAGG=<dist/src/main.js> measures another build)',
    '  --preload=N      entries in the bench-corpus store of (c), (d), (e)',
    '  --corpus=N       entries in the realistic-corpus store',
    '  --no-attributes  send the realistic corpus without its per-entry attributes'
  ].join('\n')
}

function count (arg: string): number {
  const n = Number(arg.slice(arg.indexOf('=') + 1))
  if (!Number.isSafeInteger(n) || n < 1000) throw new Error(`${arg}: give a whole number of entries, at least 1000\n${usage()}`)
  return n
}

export function parseArgs (argv: readonly string[]): BenchConfig {
  const config: BenchConfig = argv.includes('--quick') ? { ...QUICK } : { ...FULL }
  for (const arg of argv) {
    if (arg === '--quick') continue
    else if (arg.startsWith('--preload=')) config.preloadEntries = count(arg)
    else if (arg.startsWith('--corpus=')) config.corpusEntries = count(arg)
    else if (arg === '--no-attributes') config.corpusAttributes = false
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
