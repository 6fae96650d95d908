import type { LabelMatcher } from '../logql/ast.js'
import { selectorTest } from '../logql/match.js'
import type { EntryFilter } from './filter.js'
import type { Stream } from './stream.js'

// Delete requests in force on a shard (Loki's /loki/api/v1/delete, once past
// their cancel period): the entries of a tenant's streams a selector matches,
// between two times, are no longer read by any query, metric or listing of
// entries, whenever they were stored (Loki's deletion_mode filter-only), and
// leave memory and disk with purge. The front sends the whole list each time
// it changes (shards/delete-requests.ts), and again to a restarted shard.

/** One delete request as plain data (it crosses to the shards in a message). */
export interface Deletion {
  id: string
  tenant: string
  matchers: LabelMatcher[]
  /** Inclusive bounds, epoch µs. */
  start: number
  end: number
}

export class Deletions {
  private readonly list: Array<{ tenant: string, test: (label: (name: string) => string) => boolean, start: number, end: number }>
  /** Per stream, the time ranges deleted in it; rebuilt with the list. */
  private readonly ranges = new WeakMap<Stream, Array<[number, number]>>()

  constructor (list: readonly Deletion[]) {
    this.list = list.map((d) => ({ tenant: d.tenant, test: selectorTest(d.matchers), start: d.start, end: d.end }))
  }

  get empty (): boolean { return this.list.length === 0 }

  /** The ranges deleted in `stream` (empty: none). */
  rangesOf (stream: Stream): Array<[number, number]> {
    let r = this.ranges.get(stream)
    if (r === undefined) {
      r = []
      for (const d of this.list) if (d.tenant === stream.tenant && d.test((name) => stream.labelValue(name))) r.push([d.start, d.end])
      this.ranges.set(stream, r)
    }
    return r
  }

  /** `base`, without the entries these requests delete. */
  filter (base: EntryFilter): EntryFilter {
    if (this.empty) return base
    return {
      matches: (stream, v, i) => {
        const ranges = this.rangesOf(stream)
        if (ranges.length > 0) {
          const ts = v.ts[i]!
          for (const [from, to] of ranges) if (ts >= from && ts <= to) return false
        }
        return base.matches(stream, v, i)
      }
    }
  }
}

export const NO_DELETIONS = new Deletions([])
