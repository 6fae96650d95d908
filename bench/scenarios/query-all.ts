import type { Scenario } from '../scenario.js'
import { rangeWorkload } from './ranges.js'

// (d) GET every service merged, limit 1000, over the preloaded store. The
// range holds ~1100 entries spread over all 50 services: logagg fans out to
// every shard, each k-way merges its services, and the front thread merges
// the shards' parts; naive slices all 50 lists, concatenates and sorts.

export const queryAll: Scenario = {
  id: 'd',
  title: 'GET all services merged, limit 1000',
  connections: 8,
  targets: ['logagg', 'naive'],
  preloaded: true,
  prepare: (ctx) => rangeWorkload(ctx, false, 4)
}
