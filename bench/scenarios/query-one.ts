import type { Scenario } from '../scenario.js'
import { rangeWorkload } from './ranges.js'

// (c) GET one service, limit 1000, over the preloaded store (1,000,000
// entries over 50 services; 200,000 with --quick). Each request names one of
// the 50 services and a time range holding ~1100 of its entries. For logagg
// that is one shard's binary search and a 1000-entry scan; for naive, a slice
// of one sorted list.

export const queryOne: Scenario = {
  id: 'c',
  title: 'GET one service, limit 1000',
  connections: 8,
  targets: ['logagg', 'naive'],
  preloaded: true,
  prepare: (ctx) => rangeWorkload(ctx, true, 3)
}

/** (c) at one connection: the latency of a single query with nothing queued in front of it. */
export const queryOneAlone: Scenario = { ...queryOne, id: 'c1', title: 'GET one service, limit 1000, one connection', connections: 1 }

/** (c1) on a store preloaded with the realistic corpus (bench/corpus.ts): ~196-byte messages, a third with attributes. */
export const queryOneCorpus: Scenario = { ...queryOneAlone, id: 'c2', title: 'GET one service, limit 1000, one connection, realistic corpus', store: 'realistic' }
