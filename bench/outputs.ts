import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { separateSections } from './sections.js'
import { renderMarkdown } from './markdown.js'
import { DIST } from './server-fixture.js'
import { barChart, groupedBarChart } from './svg.js'
import type { Report } from './types.js'
import { int, ms } from './report.js'

// Where a run's results go:
//   bench/results/latest.json, bench/results/*.svg   every run (gitignored)
//   bench/results/RESULTS-quick.md                   a --quick run of all parts (gitignored)
//   bench/RESULTS.md, bench/charts/*.svg             a full run of all parts: the committed record

export const BENCH_DIR = join(DIST, '..', 'bench')
export const RESULTS_DIR = join(BENCH_DIR, 'results')
const CHARTS_DIR = join(BENCH_DIR, 'charts')
const CHARTS = ['ingest-by-shards.svg', 'query-p99-by-size.svg', 'query-latency-c1.svg', 'query-latency-c2.svg'] as const

function charts (report: Report): Record<(typeof CHARTS)[number], string> {
  return {
    'ingest-by-shards.svg': barChart({
      title: 'logagg ingest, scenario (b), by SHARDS',
      unit: 'entries/s, NDJSON batches of 1000 (higher is better)',
      bars: report.growth.ingestByShards.map((p) => ({ label: p.label, value: p.value })),
      format: (v) => (v >= 1000 ? `${int(v / 1000)}k` : int(v))
    }),
    'query-p99-by-size.svg': barChart({
      title: 'logagg query p99, scenario (d), by store size',
      unit: 'ms, all services merged, limit 1000 (lower is better)',
      bars: report.growth.queryP99BySize.map((p) => ({ label: `${p.label} entries`, value: p.value })),
      format: ms
    }),
    'query-latency-c1.svg': latencyChart(report, 'c1'),
    'query-latency-c2.svg': latencyChart(report, 'c2')
  }
}

/** p50 / p90 / p99 / max of one query scenario, logagg and naive side by side. */
function latencyChart (report: Report, scenario: 'c1' | 'c2'): string {
  const rows = report.rows.filter((r) => r.scenario === scenario)
  const title = rows[0]?.title ?? `(${scenario})`
  const of = (target: string): Array<number | null> => {
    const l = rows.find((r) => r.target === target)?.latency ?? null
    return l === null ? [null, null, null, null] : [l.p50, l.p90 ?? null, l.p99, l.max]
  }
  return groupedBarChart({
    title: `(${scenario}) ${title}`.slice(0, 80),
    unit: 'response latency, ms (lower is better)',
    groups: ['p50', 'p90', 'p99', 'max'],
    series: [{ name: 'logagg', values: of('logagg') }, { name: 'naive', values: of('naive') }],
    format: ms
  })
}

/** Writes every output of the run; returns the paths written. */
export function writeOutputs (report: Report): string[] {
  const written: string[] = []
  const write = (path: string, text: string): void => {
    writeFileSync(path, text)
    written.push(path)
  }
  mkdirSync(RESULTS_DIR, { recursive: true })
  write(join(RESULTS_DIR, 'latest.json'), JSON.stringify(report, null, 2) + '\n')
  const svgs = charts(report)
  for (const name of CHARTS) write(join(RESULTS_DIR, name), svgs[name])
  if (report.partial) return written

  if (report.mode !== 'full') {
    // A quick run must not replace the record of the last full run.
    write(join(RESULTS_DIR, 'RESULTS-quick.md'), renderMarkdown(report, '.'))
    return written
  }
  mkdirSync(CHARTS_DIR, { recursive: true })
  for (const name of CHARTS) {
    copyFileSync(join(RESULTS_DIR, name), join(CHARTS_DIR, name))
    written.push(join(CHARTS_DIR, name))
  }
  // Keep the sections of bench:disk and the explorer's load time, which this suite does not measure.
  const path = join(BENCH_DIR, 'RESULTS.md')
  const kept = existsSync(path) ? separateSections(readFileSync(path, 'utf8')) : ''
  write(path, renderMarkdown(report, 'charts').trimEnd() + (kept === '' ? '\n' : `\n\n${kept}\n`))
  return written
}
