import { pathRequest } from '../feeds.js'
import { probeCounts, rangePaths } from '../preload.js'
import type { ScenarioContext, Workload } from '../scenario.js'

// The query workload shared by (c) and (d): GET /logs over random time ranges
// of the preloaded store, each sized to hold ~10% more entries than the page
// limit, so every page comes back full. Before the run a sample of the paths
// is asked once and the entries returned counted: that mean is what entries/s
// is computed from, and a sample that comes back short is reported.

const PATHS = 256
/** Ranges hold this many times `limit` entries on average. */
const HEADROOM = 1.1
/** A probe mean below this share of `limit` is reported as a warning. */
const MIN_FILL = 0.9

export async function rangeWorkload (ctx: ScenarioContext, oneService: boolean, seed: number, openEnded = false): Promise<Workload> {
  const { layout, config, fixture } = ctx
  if (layout === null) throw new Error('query scenarios need a preloaded store')
  const paths = rangePaths(layout, { oneService, expected: config.limit * HEADROOM, limit: config.limit, count: PATHS, seed, openEnded })
  const probe = await probeCounts(fixture.url, paths)
  const short = probe.mean < config.limit * MIN_FILL ? ` — SHORT PAGES, ranges hold fewer than ${config.limit}` : ''
  return {
    requests: () => [{ kind: 'query', request: pathRequest(paths) }],
    entriesPerKind: { query: probe.mean },
    note: `${Math.round(probe.mean)} entries/page (probe ${probe.min}–${probe.max})${short}`
  }
}
