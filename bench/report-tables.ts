import { PROJECTED_CORES, project } from './thread-cpu.js'
import type { Report, Row } from './types.js'

// The two smaller tables of a run, as header + cells so that report.ts prints
// them on stdout and markdown.ts writes them into RESULTS.md:
//   - server RSS growth per entry over each preload, and its ratio to the
//     message bytes (bench corpus and realistic corpus, logagg and naive);
//   - CPU time per stored entry by thread during (b) and the push-protocol
//     scenarios (f), (g), and the throughput (b)'s costs project for 4, 8 and
//     16 cores;
//   - the push protocols' entries/s next to (b)'s NDJSON in the same run.

export interface Table {
  header: string[]
  rows: string[][]
  /** Right-aligned columns. */
  right: Set<number>
}

const n0 = (v: number): string => Math.round(v).toLocaleString('en-US')
const us = (v: number): string => v.toFixed(v < 10 ? 2 : 1)

export function memoryTable (report: Report): Table {
  return {
    header: ['target', 'corpus', 'entries', 'message B/entry', 'RSS growth B/entry', 'RSS / message bytes', 'preload s'],
    rows: report.memory.server.map((s) => [
      s.target,
      s.corpus === 'realistic' ? `realistic${s.attributes ? ' + attributes' : ''}` : 'bench',
      n0(s.entries),
      s.messageBytesPerEntry.toFixed(0),
      s.perEntry === null ? 'n/a' : s.perEntry.toFixed(0),
      s.ratio === null ? 'n/a' : `${s.ratio.toFixed(2)}×`,
      s.preloadSeconds.toFixed(1)
    ]),
    right: new Set([2, 3, 4, 5, 6])
  }
}

type CpuRow = Row & { cpu: NonNullable<Row['cpu']> }

/** The ingest rows that carry CPU figures: (b) for every target, then the push protocols. */
export function cpuRows (report: Report): CpuRow[] {
  const order = (r: Row): number => ['b', 'f', 'g', 'h', 'i'].indexOf(r.scenario)
  return report.rows.filter((r): r is CpuRow => order(r) >= 0 && r.cpu !== null).sort((a, b) => order(a) - order(b))
}

/** The push protocols' rows, with logagg's (b) NDJSON figure of the same run to compare them with. */
export function pushTable (report: Report): Table {
  const ndjson = report.rows.find((r) => r.scenario === 'b' && r.target === 'logagg' && r.error === null)
  const push = report.rows.filter((r) => ['f', 'g', 'h', 'i', 'j'].includes(r.scenario) && r.target === 'logagg')
  return {
    header: ['scenario', 'entries/s', 'vs (b) NDJSON', 'p99 ms', 'front µs/entry', '(b) front µs/entry'],
    rows: ndjson === undefined
      ? []
      : push.map((r) => [
        `(${r.scenario}) ${r.title}`,
        r.error === null ? n0(r.entriesPerSec) : 'FAILED',
        r.error === null && ndjson.entriesPerSec > 0 ? `${(r.entriesPerSec / ndjson.entriesPerSec).toFixed(2)}×` : '—',
        r.latency === null ? '—' : r.latency.p99.toFixed(1),
        r.cpu === null ? 'n/a' : us(r.cpu.frontUs),
        ndjson.cpu === null ? '—' : us(ndjson.cpu.frontUs)
      ]),
    right: new Set([1, 2, 3, 4, 5])
  }
}

export function cpuTable (report: Report): Table {
  return {
    header: ['scenario', 'target', 'entries measured', 'front µs/entry', 'shards µs/entry (sum)', 'other µs/entry', 'total µs/entry', 'threads (CPU ms)'],
    rows: cpuRows(report).map(({ scenario, target, cpu }) => [
      `(${scenario})`,
      target,
      n0(cpu.entries),
      us(cpu.frontUs),
      us(cpu.shardsUs),
      us(cpu.otherUs),
      us(cpu.frontUs + cpu.shardsUs + cpu.otherUs),
      cpu.threads.slice(0, 8).map((t) => `${t.role}:${t.comm} ${n0(t.cpuMs)}`).join(', ')
    ]),
    right: new Set([2, 3, 4, 5, 6])
  }
}

/** Projection for logagg only (the peers are one thread: their front bound is their limit). */
export function projectionTable (report: Report): Table {
  const row = cpuRows(report).find((r) => r.scenario === 'b' && r.target === 'logagg')
  return {
    header: ['cores', 'fronts', 'front-bound entries/s', 'shard-bound entries/s', 'projected entries/s', 'bound by'],
    rows: row === undefined
      ? []
      : PROJECTED_CORES.map((cores) => {
        const p = project(row.cpu, cores)
        return [String(cores), String(p.fronts), n0(p.frontBound), n0(p.shardBound), n0(p.projected), p.frontBound <= p.shardBound ? 'front threads' : 'shards']
      }),
    right: new Set([0, 1, 2, 3, 4])
  }
}

export const PROJECTION_NOTE = 'PROJECTION, not a measurement: fronts = the front threads (FRONTS, Node 22.12 and later) of the best split of the cores; ' +
  'front-bound = fronts / front µs per entry (each front alone on a core, the measured front cost per entry split evenly over them); ' +
  'shard-bound = (cores − fronts) / (shards + other µs per entry); projected = the lower. It assumes perfect scaling of fronts and shards, ' +
  'no load generator on the machine and no memory-bandwidth limit.'

export function plainTable (t: Table): string {
  const rows = [t.header, ...t.rows]
  const widths = t.header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  const line = (cells: string[]): string => cells.map((cell, c) => (t.right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

/** The tables as plain text for stdout (empty when the run made none of them). */
export function extraTables (report: Report): string[] {
  const out: string[] = []
  if (report.memory.server.length > 0) out.push('Server RSS growth per stored entry', plainTable(memoryTable(report)), '')
  const cpu = cpuTable(report)
  if (cpu.rows.length > 0) out.push('CPU time per stored entry, by server thread (/proc/<pid>/task)', plainTable(cpu), '')
  const push = pushTable(report)
  if (push.rows.length > 0) out.push('Other ingest paths against (b) NDJSON batches of the same entries, this run', plainTable(push), '')
  const proj = projectionTable(report)
  if (proj.rows.length > 0) out.push('(b) logagg throughput PROJECTED for more cores from those costs', plainTable(proj), PROJECTION_NOTE, '')
  return out
}
