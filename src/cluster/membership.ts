import type { KV, KvWatchEntry } from '@nats-io/kv'
import type { Logger } from 'pino'
import { leaseKey, memberKey } from './names.js'
import { ownerOf } from './rendezvous.js'

// Who is alive and who owns which partition, kept in the member bucket
// (JetStream KV, TTL = CLUSTER_LEASE_TIMEOUT, so a key nobody writes is gone
// after it):
//
//   m.<instance>    heartbeat, written every tick
//   p.<partition>   lease {owner}: made with create (only if absent), renewed
//                   with update on the revision last written (compare-and-set),
//                   given back with a delete on that revision
//
// One watcher (a long-lived consumer of the bucket) tells every put and
// delete; a member or a lease not written for the lease timeout, by this
// instance's own clock, counts as gone (no clocks are compared across
// machines). Each tick an instance writes its heartbeat, works out the owner
// of every partition by rendezvous hashing over the live members, renews the
// leases it keeps, gives back those that should move, and tries to take the
// free ones that are its own; the server's compare-and-set decides every
// race. An instance that cannot renew gives its partitions up before the
// lease lapses (fence), so two instances never both answer for one for long.

export interface MembershipOptions {
  kv: KV
  instance: string
  partitions: number
  /** ms (CLUSTER_LEASE_TIMEOUT). */
  leaseTimeout: number
  log: Logger
  /** The instance took partition p: it replays it, then answers for it. */
  onGain: (p: number) => void
  /** The instance no longer owns p: it stops answering for it at once. */
  onLose: (p: number, why: string) => void
}

interface Lease { owner: string, at: number }

/** Ticks per lease timeout: a lease is renewed this often before it would lapse. */
const TICKS_PER_LEASE = 4
/** An instance that could not renew for this share of the lease timeout gives its partitions up. */
const FENCE_SHARE = 0.6
/** ms before a watcher that stopped is started again. */
const REWATCH_MS = 250

export class Membership {
  /** Partitions this instance holds the lease of, with the lease's revision. */
  private readonly held = new Map<number, number>()
  /** When (performance.now()) each member's heartbeat was last seen. */
  private readonly seen = new Map<string, number>()
  /** Each partition's lease as last seen. */
  private readonly leases = new Map<number, Lease>()
  private live: string[] = []
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private lastRenewed = performance.now()
  private closed = false
  private watcher: { stop: () => void } | null = null
  /** When the watcher last showed this instance's own heartbeat: it must, every tick, or it is stuck. */
  private selfSeen = performance.now()
  /** The last tick's failure, or null when it went through. */
  lastError: string | null = null

  constructor (private readonly o: MembershipOptions) {}

  /** Partitions this instance holds. */
  get owned (): number[] {
    return [...this.held.keys()].sort((a, b) => a - b)
  }

  /** The live members as last worked out. */
  get members (): readonly string[] {
    return this.live
  }

  /** The owner of partition p as last seen, or undefined (none, or its lease was not renewed for the lease timeout). */
  ownerOf (p: number): string | undefined {
    if (this.held.has(p)) return this.o.instance
    const lease = this.leases.get(p)
    return lease === undefined || performance.now() - lease.at > this.o.leaseTimeout ? undefined : lease.owner
  }

  /** Reads the owner of p from the bucket now (a query that found none, or found the wrong one). */
  async readOwner (p: number): Promise<string | undefined> {
    const e = await this.o.kv.get(leaseKey(p))
    if (e === null || e.operation !== 'PUT') {
      this.leases.delete(p)
      return undefined
    }
    const owner = e.json<{ owner: string }>().owner
    this.leases.set(p, { owner, at: performance.now() })
    return owner
  }

  start (): void {
    this.watch()
    const every = Math.max(50, Math.floor(this.o.leaseTimeout / TICKS_PER_LEASE))
    this.timer = setInterval(() => { this.tick() }, every)
    this.timer.unref()
    this.tick()
  }

  /** Follows every put and delete of the bucket; starts again if the watcher stops (NATS away). */
  private watch (): void {
    if (this.closed) return
    const again = (): void => { setTimeout(() => this.watch(), REWATCH_MS).unref() }
    this.o.kv.watch().then(async (iter) => {
      this.watcher = iter
      if (this.closed) iter.stop()
      for await (const e of iter) this.saw(e)
    }).catch((err: unknown) => {
      this.lastError = `watching the member bucket: ${(err as Error).message}`
    }).finally(again)
  }

  private saw (e: KvWatchEntry): void {
    const now = performance.now()
    const put = e.operation === 'PUT'
    if (e.key.startsWith('m.')) {
      const who = e.key.slice(2)
      if (who === this.o.instance) this.selfSeen = now
      if (put) this.seen.set(who, now)
      else this.seen.delete(who)
    } else if (e.key.startsWith('p.')) {
      const p = Number(e.key.slice(2))
      if (put) this.leases.set(p, { owner: e.json<{ owner: string }>().owner, at: now })
      else this.leases.delete(p)
    }
  }

  /** Runs one tick unless one is running; resolves when it is done. */
  tick (): Promise<void> {
    this.ticking ??= this.run().then(() => { this.lastError = null }, (err: unknown) => {
      this.lastError = (err as Error).message
    }).finally(() => { this.ticking = null })
    return this.ticking
  }

  private async run (): Promise<void> {
    if (this.closed) return
    const { kv, instance, leaseTimeout } = this.o
    try {
      await kv.put(memberKey(instance), JSON.stringify({ instance, at: Date.now() }))
    } catch (err) {
      this.fenceIfStale()
      throw err
    }
    const now = performance.now()
    this.seen.set(instance, now)
    // A watcher whose consumer was on a NATS server that died can stay silent: start it again.
    if (now - this.selfSeen > leaseTimeout) {
      this.o.log.warn('the member bucket watcher stopped telling; starting it again')
      this.selfSeen = now
      this.watcher?.stop()
    }
    this.live = [...this.seen].filter(([, at]) => now - at <= leaseTimeout).map(([m]) => m).sort()
    const steps: Array<Promise<void>> = []
    let renewed = true
    for (let p = 0; p < this.o.partitions; p++) {
      const should = ownerOf(p, this.live)
      const rev = this.held.get(p)
      if (rev !== undefined) {
        if (should !== instance) {
          this.lose(p, `${should} joined and owns it now`)
          this.leases.delete(p)
          steps.push(kv.delete(leaseKey(p), { previousSeq: rev }).catch(() => {}))
        } else {
          steps.push(kv.update(leaseKey(p), JSON.stringify({ owner: instance }), rev).then((next) => {
            if (this.held.has(p)) this.held.set(p, next)
          }, (err: unknown) => {
            renewed = false
            // The revision decides: another write since ours means the lease lapsed or was taken.
            if (/wrong last sequence/i.test((err as Error).message)) this.lose(p, 'its lease lapsed or another instance holds it')
          }))
        }
        continue
      }
      const lease = this.leases.get(p)
      const free = lease === undefined || now - lease.at > leaseTimeout
      if (should === instance && free) {
        steps.push(kv.create(leaseKey(p), JSON.stringify({ owner: instance })).then((made) => {
          if (this.closed) return
          this.held.set(p, made)
          this.o.log.info({ partition: p }, 'took partition')
          this.o.onGain(p)
        }, () => {
          // The lease is still there (its TTL has not run out yet) or another instance made it first.
        }))
      }
    }
    await Promise.all(steps)
    if (renewed) this.lastRenewed = performance.now()
    else this.fenceIfStale()
  }

  /** Gives every partition up when the leases could not be renewed for long enough that others may take them soon. */
  private fenceIfStale (): void {
    if (this.held.size === 0) return
    if (performance.now() - this.lastRenewed < this.o.leaseTimeout * FENCE_SHARE) return
    for (const p of [...this.held.keys()]) this.lose(p, 'NATS did not take the lease renewals in time')
  }

  /** A tick can wait on NATS; this fences from a timer of its own too. */
  checkFence (): void {
    this.fenceIfStale()
  }

  private lose (p: number, why: string): void {
    if (!this.held.delete(p)) return
    this.o.log.warn({ partition: p, why }, 'gave up partition')
    this.o.onLose(p, why)
  }

  /** Stops ticking, gives the leases back and removes the heartbeat, so the others take over at once. */
  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.watcher?.stop()
    await this.ticking
    const { kv, instance } = this.o
    const back = [...this.held].map(([p, rev]) => {
      this.lose(p, 'the instance is stopping')
      return kv.delete(leaseKey(p), { previousSeq: rev }).catch(() => {})
    })
    await Promise.all([...back, kv.delete(memberKey(instance)).catch(() => {})])
  }
}
