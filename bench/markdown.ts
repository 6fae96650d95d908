import { HEADER, bytes, int, ms, problems, summaryLines, tableCells } from './report.js'
import { PROJECTION_NOTE, cpuTable, memoryTable, projectionTable, pushTable, type Table } from './report-tables.js'
import type { Report } from './types.js'

// bench/RESULTS.md: what was run, on what machine, the results table, the
// growth charts and the memory figures, and how to run it again.

const cell = (s: string): string => s.replace(/\|/g, '\\|')

/** A markdown table; columns in `right` are right-aligned. */
function table (header: readonly string[], rows: readonly string[][], right: ReadonlySet<number>): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map((_, i) => (right.has(i) ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)
  ].join('\n')
}

function settingsLine (settings: Record<string, unknown>): string {
  const shown = Object.entries(settings).filter(([k, v]) => k !== 'port' && (typeof v === 'number' || k === 'logLevel' || k === 'host'))
  return shown.length === 0 ? 'not recorded' : shown.map(([k, v]) => `\`${k}=${String(v)}\``).join(' ')
}

function mdTable (t: Table): string {
  return table(t.header, t.rows, t.right)
}

function cpuSection (report: Report): string[] {
  const cpu = cpuTable(report)
  if (cpu.rows.length === 0) return []
  const out = ['', '## CPU per entry and a scaling projection', '',
    'CPU time (utime + stime from `/proc/<pid>/task/<tid>/stat`) of each server thread over the measured run of (b), (f) and (g), divided by the',
    'entries stored in it. front: the main thread; shards: the SHARDS busiest other threads; other: GC helpers, the libuv pool, the rest.', '',
    mdTable(cpu), '']
  const proj = projectionTable(report)
  if (proj.rows.length > 0) out.push(`**${PROJECTION_NOTE}**`, '', mdTable(proj))
  const push = pushTable(report)
  if (push.rows.length > 0) {
    out.push('', '## Other ingest paths against NDJSON', '',
      '(f) Loki push, (g) OTLP, (i) Elasticsearch bulk and (j) syslog over TCP send the very entries of (b) (same seed, 1000 per',
      'request or write, one stream or resource per service); (h) is (b) with 100 live tails open (50 selecting one service each,',
      '50 selecting none). Their entries/s over logagg\'s (b) in the same run is the cost of the protocol or of the tails. The load',
      'generator stamps the current time into each body before sending it, and for (f) snappy-compresses it, as a shipper does:',
      'that runs on the same two cores. Targets: (f), (g) ≥ 0.8× (issue 9); (h) ≥ 0.9× (issue 11). (j) has no acknowledgement:',
      'its figure is what the store holds at the end over the time until it was stored.', '',
      mdTable(push))
  }
  return out
}

export function renderMarkdown (report: Report, chartDir: string): string {
  const m = report.machine
  const run = report.run
  const minutes = `${Math.floor(report.elapsedSeconds / 60)} min ${Math.round(report.elapsedSeconds % 60)} s`
  const quick = report.mode === 'quick'
  const issues = problems(report)
  const mem = report.memory.inProcess
  const out: string[] = [
    '# Benchmark results',
    '',
    '<!-- Written by `npm run bench` (bench/run.ts). Rerun it rather than editing this file. -->',
    '',
    quick
      ? '**Quick run** (`npm run bench -- --quick`): a smoke test of the suite, not the numbers to keep.'
      : '**Full run** (`npm run bench`).',
    '',
    `Each measured run: ${run.warmupS} s warm-up (not counted), then ${run.durationS} s. Query store: ${int(run.preloadEntries)} entries.`,
    '',
    `Run on ${m.date.slice(0, 16).replace('T', ' ')} UTC; it took ${minutes}.`,
    '',
    '| cores | CPU (os.cpus()) | Node | OS | memory |',
    '| ---: | --- | --- | --- | ---: |',
    `| ${m.cores} | ${cell(m.cpuModel)} | ${m.node} | ${cell(m.platform)} | ${bytes(m.totalMemBytes)} |`,
    '',
    `> **Read with care.** This machine has ${m.cores} cores and is shared with other work, and the load generator`,
    '> (autocannon, driven from the same Node process as the suite) runs on it too, competing with the server for',
    '> the same cores. Absolute numbers are noisy and understate a server with cores of its own; the ratios',
    '> between logagg and its peers, measured back to back under the same conditions, say more.',
    '',
    `logagg ran with its defaults: ${settingsLine(report.settings)}. Every server listened on 127.0.0.1 only.`,
    '',
    '## Results',
    '',
    table(HEADER, tableCells(report), new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11])),
    '',
    '- **entries/s**: entries stored per second (ingest), or entries returned per second (queries: req/s × the',
    '  mean page size measured before the run). For (e), stored entries only; the notes give the query rate and p99.',
    '- **p50 / p99 / max**: response latency in ms over the measured run (after a warm-up run that is not counted).',
    '- **vs raw / vs naive**: logagg\'s entries/s divided by the peer\'s; above 1× logagg is faster. n/a: the peer',
    '  has no such endpoint (raw answers POST only).',
    '- **non-2xx / errors** must be 0; anything else is listed under Problems.',
    '',
    `![(c1) latency percentiles](${chartDir}/query-latency-c1.svg) ![(c2) latency percentiles](${chartDir}/query-latency-c2.svg)`,
    ''
  ]
  out.push('## Growth', '')
  out.push(`![ingest by SHARDS](${chartDir}/ingest-by-shards.svg) ![query p99 by store size](${chartDir}/query-p99-by-size.svg)`, '')
  out.push(table(['series', 'point', 'value', 'source'], [
    ...report.growth.ingestByShards.map((p) => ['(b) ingest entries/s', p.label, p.value === null ? 'FAILED' : int(p.value), p.reused ? 'main (b) run' : 'own run']),
    ...report.growth.queryP99BySize.map((p) => ['(d) query p99 ms', `${p.label} stored`, p.value === null ? 'FAILED' : ms(p.value), p.reused ? 'main (d) run' : 'own run'])
  ], new Set([2])), '')
  out.push('## Memory', '')
  if (mem !== null && !('error' in mem)) {
    out.push(`- **In-process** (\`bench/memory-probe.ts\`, \`node --expose-gc\`): one \`ShardStore\` holding ${int(mem.entries)} entries`)
    out.push(`  (~80-byte messages, 50 services, batches of 1000, ~5% late) grows heapUsed by ${bytes(mem.heapDeltaBytes)}, **${mem.heapPerEntry.toFixed(0)} B/entry**,`)
    out.push(`  and RSS by ${bytes(mem.rssDeltaBytes)}, **${mem.rssPerEntry.toFixed(0)} B/entry**, after gc(). \`ShardStore.ingest\` alone took ${mem.ingestSeconds.toFixed(2)} s (${int(mem.entries / mem.ingestSeconds)} entries/s).`)
    out.push(`- **Purge**: dropping all ${int(mem.purgeDropped)} entries as expired blocked for **${ms(mem.purgeMs)} ms** in the longest \`purge()\` call`)
    out.push(`  (${mem.purgeCalls} call${mem.purgeCalls === 1 ? '' : 's'}, ${ms(mem.purgeTotalMs)} ms in all). In the server each shard purges only its own share;`)
    out.push('  freeing the dropped entries is the garbage collector\'s work: the full collection a shard asks for once purges have freed as much as it')
    out.push(`  still holds (so memory goes back down after a burst) then took **${ms(mem.collectMs)} ms**, once.`)
  }
  if (report.memory.server.length > 0) {
    out.push('- **Servers**: VmRSS growth over each preload (RSS, not after a GC; includes garbage not yet collected), per entry and', '  as a multiple of the message bytes sent. naive keeps the message only and ignores attributes.', '')
    out.push(mdTable(memoryTable(report)), '', 'Targets (issue 8): logagg ≤ 0.4× the message bytes on the realistic corpus, ≤ 60 B/entry on the bench corpus.')
  }
  out.push(...cpuSection(report))
  out.push('', '## The scenarios', '')
  out.push(
    '- **(a)** single-entry POST (one JSON object), 50 services, 32 connections. Bodies are built before the run; each send rewrites only the timestamp to "now".',
    '- **(b)** NDJSON batches of 1000 entries over 50 services, ~5% stamped up to 2 s late, 4 connections.',
    `- **(c)** GET /logs for one service, limit 1000, on a store preloaded (over HTTP, NDJSON batches) with ${int(run.preloadEntries)} entries over 50 services spread over 43 minutes; each range holds ~1100 matching entries, so pages are full.`,
    '- **(d)** GET /logs for all services merged, limit 1000, same store, ranges of ~1100 entries across all services.',
    '- **(e)** mixed on the same store: each of 8 connections cycles nine (b)-style POSTs and one (c)- or (d)-style GET.',
    `- **(c2)**, **(d2)**: (c1) and (d1) on a second store, preloaded with ${int(run.corpusEntries)} entries of the realistic corpus (\`bench/corpus.ts\`: half nginx`,
    `  access lines, half JSON application lines, 2% multi-line stack traces, ~196 message bytes, 50 services${run.corpusAttributes ? ', a third of the entries with 2-4 attributes' : ''}).`,
    '',
    'Peers, each a child process on one thread: **raw** (`bench/peers/raw.ts`), a node:http server that only JSON-parses each entry, parses its',
    'timestamp and appends it to an array: the floor of ingest work. **naive** (`bench/peers/naive.ts`), the original Django design ported',
    'to Express: one sorted array per service, binary-search insert with splice, and concat-then-sort on a multi-service read.',
    ''
  )
  if (issues.length > 0) out.push('## Problems', '', ...issues.map((p) => `- ${cell(p)}`), '')
  out.push('## Summary lines', '', '```', ...summaryLines(report), '```', '')
  out.push('## Reproduce', '', '```sh', 'npm ci', 'npm run bench              # full run, a few minutes; writes this file and bench/charts/', 'npm run bench -- --quick   # under 90 s; results in bench/results/ (gitignored)', '```', '')
  return out.join('\n')
}
