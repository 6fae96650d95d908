import type { BenchConfig } from '../config.js'
import { planLayout, preload } from '../preload.js'
import type { Progress } from '../progress.js'
import { measure } from '../scenario.js'
import { withTarget } from '../server-fixture.js'
import type { GrowthPoint, Row } from '../types.js'
import { batchIngest } from './batch-ingest.js'
import { queryAll } from './query-all.js'

// How logagg scales: (1) entries/s of scenario (b) with SHARDS=1, 2 and 4;
// (2) p99 of scenario (d) with 100,000, 1,000,000 and 3,000,000 entries stored.
// A point that the main scenarios already measured with the same settings is
// reused rather than run again.

function point (label: string, x: number, row: Row, value: number | null, reused: boolean): GrowthPoint {
  return { label, x, value: row.error === null ? value : null, reused, non2xx: row.non2xx + row.errors, error: row.error }
}

function failed (label: string, x: number, err: unknown): GrowthPoint {
  return { label, x, value: null, reused: false, non2xx: 0, error: err instanceof Error ? err.message : String(err) }
}

/** entries/s of (b) for each SHARDS value; `main` is the (b) logagg row, run with `mainShards`. */
export async function shardGrowth (config: BenchConfig, progress: Progress, main: Row | undefined, mainShards: number | null): Promise<GrowthPoint[]> {
  const points: GrowthPoint[] = []
  for (const shards of config.shardCounts) {
    const label = `SHARDS=${shards}`
    if (main !== undefined && main.error === null && mainShards === shards) {
      points.push(point(label, shards, main, main.entriesPerSec, true))
      continue
    }
    progress.begin(`shards:${shards}`)
    try {
      const row = await withTarget('logagg', { SHARDS: String(shards) }, (fixture) => measure(batchIngest, { fixture, config, layout: null }))
      points.push(point(label, shards, row, row.entriesPerSec, false))
    } catch (err) {
      points.push(failed(label, shards, err))
    }
  }
  return points
}

/** p99 of (d) for each store size; `main` is the (d) logagg row, run on `config.preloadEntries`. */
export async function sizeGrowth (config: BenchConfig, progress: Progress, main: Row | undefined): Promise<GrowthPoint[]> {
  const points: GrowthPoint[] = []
  for (const size of config.querySizes) {
    const label = size >= 1e6 ? `${size / 1e6}M` : `${size / 1e3}k`
    if (main !== undefined && main.error === null && size === config.preloadEntries) {
      points.push(point(label, size, main, main.latency?.p99 ?? null, true))
      continue
    }
    progress.begin(`size:${size}`)
    try {
      const row = await withTarget('logagg', {}, async (fixture) => {
        const layout = planLayout(size)
        await preload(fixture.url, layout)
        return await measure(queryAll, { fixture, config, layout })
      })
      points.push(point(label, size, row, row.latency?.p99 ?? null, false))
    } catch (err) {
      points.push(failed(label, size, err))
    }
  }
  return points
}
