import type { LogSelection } from '../logql/ast.js'
import type { MergedEntry } from '../shards/page.js'
import { entriesPlan, forTenants, runPlan, tenantSelection } from '../shards/plan.js'
import type { RenderFormat } from '../store/render/index.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import type { TailDelivery } from '../shards/tail-manager.js'
import type { TailFormat } from '../store/shard-messages.js'
import { nowUs } from '../core/timestamp.js'

// One live tail, whatever its protocol: registered on the shards, replayed
// from a point, then fed live entries with no gap and no duplicate. The
// tail is registered before the replay starts; what arrives live meanwhile
// is held back (up to TAIL_BUFFER_BYTES), then sent without the entries the
// replay already sent (matched by arrival sequence number).
//
// Nothing buffers without bound: the shards keep at most TAIL_BUFFER entries
// and TAIL_BUFFER_BYTES per tail between polls (TAIL_SHARD_BYTES for all
// tails) and drop (and count) the rest. Here a tail writes a delivery only as
// far as it fits under TAIL_BUFFER_BYTES unsent to its client (res.write's
// own writableLength, the WebSocket's bufferedAmount); while that much waits
// the tail is `stalled` and its shards do not even ship its entries, only
// count them; it is told how many it missed once it reads again. A replay
// waits for the client to drain before its next page.

const REPLAY_PAGE = 1000
/** How long after going live a late in-flight entry may still turn out to be one the replay sent. */
const DEDUPE_MS = 5_000

export interface TailSink {
  /** Stored entries, rendered by the replay query in its format. */
  replay: (entries: MergedEntry[]) => void
  /** Live entries, rendered by the shards in the tail's format. */
  live: (entries: MergedEntry[]) => void
  dropped: (count: number, named: TailDelivery['droppedNamed']) => void
  /** Bytes waiting to be written to the client. */
  backlog: () => number
  /** Resolves once the client has read what waits (or is gone); the replay waits for it between pages. */
  drained?: () => Promise<void>
  /** Calls `fn` each time what waited for the client has been written out. */
  onDrain: (fn: () => void) => void
}

/** Dropped entries named to a Loki client per notice, as the shards name them. */
const NAMED_DROPS = 100

const bytesOf = (entries: readonly MergedEntry[]): number => {
  let n = 0
  for (const e of entries) n += e.body.length
  return n
}

/**
 * Runs a tail: registers it, replays from `after` (exclusive) or `start`, then
 * streams live entries to the sink. Returns the function that ends it.
 */
export async function runTail (router: ShardRouter, select: LogSelection, tenant: string, from: { start: number, after: { ts: number, seq: number } | null }, replay: { limit: number, format: RenderFormat }, live: TailFormat, sink: TailSink, settings: Settings): Promise<() => void> {
  const bound = settings.tailBufferBytes
  const held: TailDelivery[] = []
  let heldBytes = 0
  let replaying = true
  let replayed: Set<number> | null = new Set()
  const forward = (d: TailDelivery): void => {
    const entries = replayed === null ? d.entries : d.entries.filter((e) => !replayed!.has(e.seq))
    // The oldest entries that fit under the bound are written; the rest are dropped and counted.
    let room = bound - sink.backlog()
    let n = 0
    while (n < entries.length && entries[n]!.body.length <= room) room -= entries[n++]!.body.length
    if (n > 0) sink.live(n === entries.length ? entries : entries.slice(0, n))
    missed += d.dropped + entries.length - n
    for (const x of d.droppedNamed) if (missedNamed.length < NAMED_DROPS) missedNamed.push(x)
    report()
  }
  // The count of what was dropped is told once the client reads again (at its next delivery or
  // when its backlog drains), so a stalled client is not sent a notice every poll either.
  let missed = 0
  let missedNamed: TailDelivery['droppedNamed'] = []
  const report = (): void => {
    if (missed === 0 || sink.backlog() >= bound) return
    sink.dropped(missed, missedNamed)
    missed = 0
    missedNamed = []
  }
  // While the replay runs, live deliveries wait here, up to the bound too.
  const hold = (d: TailDelivery): void => {
    const bytes = bytesOf(d.entries)
    if (heldBytes + bytes <= bound) {
      held.push(d)
      heldBytes += bytes
    } else held.push({ entries: [], dropped: d.dropped + d.entries.length, droppedNamed: d.droppedNamed })
  }
  const stalled = (): boolean => (replaying ? heldBytes : sink.backlog()) >= bound
  const tenantMax = router.limitsOf(tenant)?.maxConcurrentTailRequests ?? Infinity
  const id = await router.tails.subscribe(tenantSelection(select, tenant), live, (d) => { if (replaying) hold(d); else forward(d) }, stalled, tenant, tenantMax)
  try {
    let after = from.after
    let sent = 0
    while (sent < replay.limit) {
      const range = { start: from.start, end: nowUs() + settings.futureSkew * 1000, descending: false, limit: Math.min(REPLAY_PAGE, replay.limit - sent) }
      const page = await runPlan(router, forTenants(entriesPlan(select, range, replay.format, after), [tenant]), '/logs/tail')
      if (page.entries.length > 0) {
        for (const e of page.entries) replayed.add(e.seq)
        sink.replay(page.entries)
        sent += page.entries.length
        const last = page.entries[page.entries.length - 1]!
        after = { ts: last.ts, seq: last.seq }
        if (sink.drained !== undefined && sink.backlog() >= bound) await sink.drained()
      }
      if (!page.more || sent >= replay.limit || page.entries.length === 0) break
    }
  } catch (err) {
    router.tails.unsubscribe(id)
    throw err
  }
  replaying = false
  for (const d of held.splice(0)) forward(d)
  sink.onDrain(report)
  const forget = setTimeout(() => { replayed = null }, DEDUPE_MS)
  return () => {
    clearTimeout(forget)
    router.tails.unsubscribe(id)
  }
}
