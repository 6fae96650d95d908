import { TooManyTailsError } from '../core/errors.js'
import type { LogSelection } from '../logql/ast.js'
import type { QueryPart, TailFormat, TailLimits } from '../store/shard-messages.js'
import { mergeEntries, type MergedEntry } from './page.js'
import type { Shard } from './shard.js'
import { singleService } from '../logql/match.js'
import { shardOf } from '../core/hash.js'
import { FAKE_TENANT } from '../tenants/tenant-id.js'

// Live tails on the front thread. A tail is registered on the shards its
// selector can reach (one shard when it names one service); the shards match
// new entries as they store them and render them in the tail's format; every
// POLL_MS the front asks each shard with tails for what they got, in one
// request per shard, merges each tail's entries from all shards in
// (timestamp, arrival) order and hands the bytes to its listener. A shard
// that restarted and no longer knows a tail is told about it again.
// At most `maxTails` tails are open at once (MAX_TAILS); a tail whose client
// is not reading (`stalled`) is not shipped at all: its shards count what it
// got as dropped, and it hears the count once it reads again.

const POLL_MS = 200
/** Rendered bytes handed to tails in one event-loop turn of a poll before it yields to other requests. */
const TURN_BYTES = 2 * 1024 * 1024

export interface TailDelivery {
  /** Rendered entries, in (timestamp, arrival) order. */
  entries: MergedEntry[]
  /** Entries that did not fit this tail's buffers since the last delivery. */
  dropped: number
  droppedNamed: Array<{ labels: string[], ts: number }>
}

interface Registered {
  id: number
  tenant: string
  select: LogSelection
  format: TailFormat
  shards: number[]
  deliver: (d: TailDelivery) => void
  stalled: () => boolean
}

export class TailManager {
  private readonly tails = new Map<number, Registered>()
  private nextId: number
  private timer: NodeJS.Timeout | null = null
  private polling = false

  constructor (
    private readonly shards: readonly Shard[],
    private readonly limits: TailLimits,
    private readonly maxTails = Infinity,
    /** The first tail id; fronts that share shards count from ids of their own (RouterOptions.front). */
    firstId = 1
  ) {
    this.nextId = firstId
  }

  get count (): number { return this.tails.size }

  /**
   * Starts a tail; its listener gets each poll's new entries, except while `stalled()` says its
   * client is not reading. Resolves once every shard involved holds it; throws TooManyTailsError
   * (429) when MAX_TAILS are open.
   */
  async subscribe (select: LogSelection, format: TailFormat, deliver: (d: TailDelivery) => void, stalled: () => boolean = () => false, tenant = FAKE_TENANT, tenantMax = Infinity): Promise<number> {
    if (this.tails.size >= this.maxTails) {
      throw new TooManyTailsError(`${this.tails.size} live tails are open, the most this server allows (MAX_TAILS); close one, or raise MAX_TAILS, and try again`)
    }
    if (tenantMax < Infinity) {
      let mine = 0
      for (const t of this.tails.values()) if (t.tenant === tenant) mine++
      if (mine >= tenantMax) throw new TooManyTailsError(`tenant ${JSON.stringify(tenant)} has ${mine} live tails open, its max_concurrent_tail_requests (LIMITS_FILE); close one and try again`)
    }
    const id = this.nextId++
    const service = singleService(select.selector)
    const shards = service === null ? this.shards.map((_, i) => i) : [shardOf(service, this.shards.length)]
    const tail = { id, tenant, select, format, shards, deliver, stalled }
    this.tails.set(id, tail)
    try {
      await Promise.all(shards.map((i) => this.shards[i]!.tail({ type: 'tail-subscribe', id, select, limits: this.limits, format })))
    } catch (err) {
      this.unsubscribe(id)
      throw err
    }
    this.timer ??= setInterval(() => { this.poll().catch(() => {}) }, POLL_MS)
    return id
  }

  unsubscribe (id: number): void {
    const tail = this.tails.get(id)
    if (tail === undefined) return
    this.tails.delete(id)
    for (const i of tail.shards) this.shards[i]!.tail({ type: 'tail-unsubscribe', id }).catch(() => {})
    if (this.tails.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  /** One round: every shard with tails hands over what it kept; each tail gets its share, merged in order. */
  async poll (): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      const perShard = new Map<number, { ids: number[], stalled: number[] }>()
      for (const t of this.tails.values()) {
        const stalled = t.stalled()
        for (const i of t.shards) {
          const ask = perShard.get(i) ?? perShard.set(i, { ids: [], stalled: [] }).get(i)!
          ask.ids.push(t.id)
          if (stalled) ask.stalled.push(t.id)
        }
      }
      const got = new Map<number, { parts: QueryPart[], dropped: number, droppedNamed: TailDelivery['droppedNamed'] }>()
      await Promise.all([...perShard].map(async ([i, { ids, stalled }]) => {
        const shard = this.shards[i]!
        let reply
        try {
          reply = await shard.tail({ type: 'tail-poll', ids, stalled })
        } catch {
          return // The shard is down or restarting; the next round asks again.
        }
        for (const b of reply.batches) {
          const d = got.get(b.id) ?? { parts: [], dropped: 0, droppedNamed: [] }
          d.parts.push(b.part)
          d.dropped += b.dropped
          d.droppedNamed.push(...b.droppedNamed)
          got.set(b.id, d)
        }
        for (const id of reply.unknown) {
          const t = this.tails.get(id)
          if (t !== undefined) await shard.tail({ type: 'tail-subscribe', id, select: t.select, limits: this.limits, format: t.format }).catch(() => {})
        }
      }))
      // Delivered a few MiB per event-loop turn: 50 tails of a busy service can be 50 MiB to merge
      // and write (the kernel takes it all while a paused client's socket buffers still grow), and
      // done in one task that is a quarter second during which no other request is answered.
      let turn = 0
      for (const [id, d] of got) {
        if (turn >= TURN_BYTES) {
          await new Promise<void>((resolve) => setImmediate(resolve))
          turn = 0
        }
        const t = this.tails.get(id)
        if (t === undefined) continue
        const { entries } = mergeEntries(d.parts.map(sorted), false, Infinity)
        for (const p of d.parts) turn += p.body.length
        t.deliver({ entries, dropped: d.dropped, droppedNamed: d.droppedNamed })
      }
    } finally {
      this.polling = false
    }
  }

  close (): void {
    for (const id of [...this.tails.keys()]) this.unsubscribe(id)
  }
}

/** A part in (timestamp, arrival) order: a shard keeps its tail's entries in arrival order, which late entries break. */
function sorted (part: QueryPart): QueryPart {
  const n = part.ts.length
  const order = Array.from({ length: n }, (_, i) => i)
  let inOrder = true
  for (let i = 1; i < n && inOrder; i++) inOrder = part.ts[i - 1]! < part.ts[i]! || (part.ts[i - 1] === part.ts[i] && part.seq[i - 1]! < part.seq[i]!)
  if (inOrder) return part
  order.sort((a, b) => part.ts[a]! - part.ts[b]! || part.seq[a]! - part.seq[b]!)
  const chunks: Uint8Array[] = []
  const ends = new Uint32Array(n)
  let at = 0
  order.forEach((i, k) => {
    const from = i === 0 ? 0 : part.ends[i - 1]! + 1
    const bytes = part.body.subarray(from, part.ends[i])
    if (k > 0) {
      chunks.push(COMMA)
      at++
    }
    chunks.push(bytes)
    at += bytes.length
    ends[k] = at
  })
  return { ts: Float64Array.from(order, (i) => part.ts[i]!), seq: Float64Array.from(order, (i) => part.seq[i]!), body: Buffer.concat(chunks), ends, complete: true, scanned: 0 }
}

const COMMA = Buffer.from(',')
