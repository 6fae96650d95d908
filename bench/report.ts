import { cpus, platform, release, totalmem } from 'node:os'
import type { TargetName } from './server-fixture.js'
import type { GrowthPoint, Machine, Report, Row } from './types.js'

// Turns a Report into text: the results table (plain for the terminal,
// markdown for RESULTS.md), the growth and memory summaries, and the list of
// problems that must be shown loudly (non-2xx answers, errors, failed runs).

const TARGET_ORDER: readonly TargetName[] = ['logagg', 'naive', 'raw']
const PEERS: readonly TargetName[] = ['raw', 'naive']

export function machineInfo (): Machine {
  const list = cpus()
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${release()}`,
    totalMemBytes: totalmem(),
    date: new Date().toISOString()
  }
}

export const int = (n: number): string => Math.round(n).toLocaleString('en-US')

export function ms (v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)
}

export function bytes (n: number | null): string {
  if (n === null) return 'n/a'
  if (Math.abs(n) >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`
  if (Math.abs(n) >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${Math.round(n)} B`
}

export function sortedRows (report: Report): Row[] {
  return [...report.rows].sort((a, b) => a.scenario.localeCompare(b.scenario) || TARGET_ORDER.indexOf(a.target) - TARGET_ORDER.indexOf(b.target))
}

/** logagg's entries/s over the peer's for the same scenario; n/a where the peer has no such run. */
export function ratio (report: Report, row: Row, peer: TargetName): string {
  if (row.target !== 'logagg') return ''
  const other = report.rows.find((r) => r.scenario === row.scenario && r.target === peer)
  if (other === undefined) return 'n/a'
  if (row.error !== null || other.error !== null || other.entriesPerSec <= 0) return '—'
  return `${(row.entriesPerSec / other.entriesPerSec).toFixed(2)}×`
}

export const HEADER = ['scenario', 'target', 'conns', 'req/s', 'entries/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'vs raw', 'vs naive', 'notes']
const RIGHT = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11])

/** One array of cells per row, in HEADER order. */
export function tableCells (report: Report): string[][] {
  let last = ''
  return sortedRows(report).map((row) => {
    const name = `(${row.scenario}) ${row.title}`
    const shown = name === last ? '' : name
    last = name
    if (row.error !== null) return [shown, row.target, String(row.connections), 'FAILED', '', '', '', '', '', '', '', '', row.error.split('\n')[0]!.slice(0, 120)]
    const loud = (n: number): string => (n === 0 ? '0' : `${n} !!`)
    return [
      shown, row.target, String(row.connections), int(row.rps), int(row.entriesPerSec),
      ms(row.latency?.p50), ms(row.latency?.p99), ms(row.latency?.max), loud(row.non2xx), loud(row.errors),
      ...PEERS.map((p) => ratio(report, row, p)), row.note
    ]
  })
}

export function textTable (report: Report): string {
  const rows = [HEADER, ...tableCells(report)]
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (cells: string[]): string => cells.map((cell, c) => (RIGHT.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

function growthLine (points: readonly GrowthPoint[], format: (v: number) => string): string {
  return points.map((p) => `${p.label}: ${p.value === null ? 'FAILED' : format(p.value)}${p.reused ? ' (main run)' : ''}`).join('   ')
}

/** Growth and memory, as short lines under the table. */
export function summaryLines (report: Report): string[] {
  const lines: string[] = []
  const { ingestByShards, queryP99BySize } = report.growth
  if (ingestByShards.length > 0) lines.push(`growth  (b) ingest entries/s by SHARDS:     ${growthLine(ingestByShards, int)}`)
  if (queryP99BySize.length > 0) lines.push(`growth  (d) query p99 ms by entries stored: ${growthLine(queryP99BySize, ms)}`)
  const mem = report.memory.inProcess
  if (mem !== null && 'error' in mem) lines.push(`memory  in-process probe FAILED: ${mem.error}`)
  else if (mem !== null) {
    lines.push(`memory  ShardStore in-process, ${int(mem.entries)} entries: ${mem.heapPerEntry.toFixed(0)} B/entry heapUsed, ${mem.rssPerEntry.toFixed(0)} B/entry RSS`)
    lines.push(`purge   ShardStore.purge() of ${int(mem.purgeDropped)} expired entries: longest call ${ms(mem.purgeMs)} ms (${mem.purgeCalls} call${mem.purgeCalls === 1 ? '' : 's'}, ${ms(mem.purgeTotalMs)} ms in all); then one full collection: ${ms(mem.collectMs)} ms`)
  }
  for (const s of report.memory.server) {
    const ratio = s.ratio === null ? '' : `, ${s.ratio.toFixed(2)}× the ${s.messageBytesPerEntry.toFixed(0)} message bytes`
    lines.push(`memory  ${s.target} server RSS growth over ${int(s.entries)} ${s.corpus} entries: ${s.perEntry === null ? 'n/a' : `${s.perEntry.toFixed(0)} B/entry`}${ratio} (${bytes(s.rssBeforeBytes)} → ${bytes(s.rssAfterBytes)}; preload ${s.preloadSeconds.toFixed(1)} s)`)
  }
  return lines
}

/** Everything that went wrong without stopping the run. Non-empty means the run is not clean. */
export function problems (report: Report): string[] {
  const out: string[] = []
  for (const row of sortedRows(report)) {
    const who = `(${row.scenario}) ${row.target}`
    if (row.error !== null) out.push(`${who}: FAILED: ${row.error}`)
    if (row.non2xx > 0) {
      const codes = Object.entries(row.load?.statusCodes ?? {}).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}×${n}`).join(', ')
      out.push(`${who}: ${row.non2xx} NON-2XX responses (${codes}${row.load?.warmupNon2xx ? `; ${row.load.warmupNon2xx} in warm-up` : ''})`)
    }
    if (row.errors > 0) out.push(`${who}: ${row.errors} socket errors / timeouts`)
    for (const f of new Set(row.load?.failures ?? [])) out.push(`${who}:   answered: ${f.replace(/\s+/g, ' ')}`)
    if (row.note.includes('SHORT PAGES')) out.push(`${who}: ${row.note}`)
  }
  for (const p of [...report.growth.ingestByShards, ...report.growth.queryP99BySize]) {
    if (p.error !== null) out.push(`growth ${p.label}: FAILED: ${p.error}`)
    else if (p.non2xx > 0 && !p.reused) out.push(`growth ${p.label}: ${p.non2xx} NON-2XX responses or errors`)
  }
  const mem = report.memory.inProcess
  if (mem !== null && 'error' in mem) out.push(`memory probe FAILED: ${mem.error}`)
  return out.concat(report.warnings)
}
