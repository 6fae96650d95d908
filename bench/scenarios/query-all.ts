import type { Scenario } from '../scenario.js'
import { rangeWorkload } from './ranges.js'

// (d) GET every service merged, limit 1000, over the preloaded store: the
// first page of "everything since T" (a random start, no end), the query a
// person paging through recent logs makes. logagg fans out to every shard,
// each k-way merges its services from T, and the front thread merges the
// shards' parts: the cost is the page, not the store. naive, the original
// design, slices all 50 lists from T, concatenates and sorts before it takes
// 1000: the cost grows with everything stored after T (half the store on
// average).

export const queryAll: Scenario = {
  id: 'd',
  title: 'GET all services merged, limit 1000',
  connections: 8,
  targets: ['logagg', 'naive'],
  preloaded: true,
  prepare: (ctx) => rangeWorkload(ctx, false, 4, true)
}

/** (d) at one connection: the latency of a single merged query with nothing queued in front of it. */
export const queryAllAlone: Scenario = { ...queryAll, id: 'd1', title: 'GET all services merged, limit 1000, one connection', connections: 1 }

/** (d1) on a store preloaded with the realistic corpus (bench/corpus.ts). */
export const queryAllCorpus: Scenario = { ...queryAllAlone, id: 'd2', title: 'GET all services merged, limit 1000, one connection, realistic corpus', store: 'realistic' }
