import type { KV, KvEntry } from '@nats-io/kv'
import type { Logger } from 'pino'
import { leaseKey, memberKey } from './names.js'
import { ownerOf } from './rendezvous.js'

// Who is alive and who owns which partition, kept in the member bucket
// (JetStream KV, TTL = CLUSTER_LEASE_TIMEOUT, so a key nobody writes is gone
// after it):
//
//   m.<instance>    heartbeat, written every tick
//   p.<partition>   lease {owner}: made with create (only if absent), renewed
//                   with update on the revision last seen (compare-and-set),
//                   given back with a delete on that revision
//
// Each tick an instance writes its heartbeat, reads the bucket, works out
// the owner of every partition by rendezvous hashing over the live members,
// renews the leases it keeps, gives back those that should move, and takes
// the free ones that are its own. A lease changes hands only once its holder
// gave it back or stopped renewing it for the lease timeout; an instance
// that cannot renew stops answering for its partitions before that (fence).

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

interface Lease { owner: string }

/** Ticks per lease timeout: a lease is renewed this often before it would lapse. */
const TICKS_PER_LEASE = 4
/** An instance that could not renew for this share of the lease timeout gives its partitions up. */
const FENCE_SHARE = 0.6

export class Membership {
  /** Partitions this instance holds the lease of, with the lease's revision. */
  private readonly held = new Map<number, number>()
  /** The owner of each partition as last read from the bucket (undefined: none). */
  private readonly owners: Array<string | undefined>
  private live: string[] = []
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private lastRenewed = Date.now()
  private closed = false
  /** The last tick's failure, or null when it went through. */
  lastError: string | null = null

  constructor (private readonly o: MembershipOptions) {
    this.owners = new Array(o.partitions).fill(undefined)
  }

  /** Partitions this instance holds. */
  get owned (): number[] {
    return [...this.held.keys()].sort((a, b) => a - b)
  }

  /** The live members as last read. */
  get members (): readonly string[] {
    return this.live
  }

  /** The owner of partition p as last read, or undefined. */
  ownerOf (p: number): string | undefined {
    return this.owners[p]
  }

  /** Reads the owner of p from the bucket now (a query that found none, or found the wrong one). */
  async readOwner (p: number): Promise<string | undefined> {
    const e = await this.o.kv.get(leaseKey(p))
    const owner = e === null || e.operation !== 'PUT' ? undefined : e.json<Lease>().owner
    this.owners[p] = owner
    return owner
  }

  start (): void {
    const every = Math.max(50, Math.floor(this.o.leaseTimeout / TICKS_PER_LEASE))
    this.timer = setInterval(() => { this.tick() }, every)
    this.timer.unref()
    this.tick()
  }

  /** Runs one tick unless one is running; resolves when it is done. */
  tick (): Promise<void> {
    this.ticking ??= this.run().catch((err: unknown) => {
      this.lastError = (err as Error).message
    }).finally(() => { this.ticking = null })
    return this.ticking
  }

  private async run (): Promise<void> {
    if (this.closed) return
    const { kv, instance } = this.o
    try {
      await kv.put(memberKey(instance), JSON.stringify({ instance, at: Date.now() }))
    } catch (err) {
      this.fenceIfStale()
      throw err
    }
    const snapshot = await this.read()
    this.live = snapshot.members
    if (!this.live.includes(instance)) this.live = [...this.live, instance].sort()
    let renewedAll = true
    for (let p = 0; p < this.o.partitions; p++) {
      if (this.closed) return
      const lease = snapshot.leases.get(p)
      this.owners[p] = lease?.owner
      const should = ownerOf(p, this.live)
      const rev = this.held.get(p)
      if (rev !== undefined) {
        // The revision decides, not what was read (a replica may lag behind the lease just made).
        this.owners[p] = instance
        if (should !== instance) {
          this.lose(p, `${should} joined and owns it now`)
          await kv.delete(leaseKey(p), { previousSeq: rev }).catch(() => {})
          this.owners[p] = undefined
        } else {
          try {
            this.held.set(p, await kv.update(leaseKey(p), JSON.stringify({ owner: instance }), rev))
          } catch (err) {
            renewedAll = false
            if (/wrong last sequence/i.test((err as Error).message)) {
              this.lose(p, 'its lease lapsed or another instance holds it')
              this.owners[p] = lease?.owner
            } else {
              throw err
            }
          }
        }
      } else if (should === instance && lease === undefined) {
        try {
          const made = await kv.create(leaseKey(p), JSON.stringify({ owner: instance }))
          this.held.set(p, made)
          this.owners[p] = instance
          this.o.log.info({ partition: p }, 'took partition')
          this.o.onGain(p)
        } catch {
          // Another instance made it first (its view of the members differs for a tick).
        }
      }
    }
    if (renewedAll) this.lastRenewed = Date.now()
    this.lastError = null
  }

  /** Gives every partition up when the leases could not be renewed for long enough that others may take them soon. */
  private fenceIfStale (): void {
    if (this.held.size === 0) return
    if (Date.now() - this.lastRenewed < this.o.leaseTimeout * FENCE_SHARE) return
    for (const p of [...this.held.keys()]) this.lose(p, 'NATS did not take the lease renewals in time')
  }

  /** Ticks run while NATS is away fail fast; this fences from a timer too. */
  checkFence (): void {
    this.fenceIfStale()
  }

  private lose (p: number, why: string): void {
    if (!this.held.delete(p)) return
    this.o.log.warn({ partition: p, why }, 'gave up partition')
    this.o.onLose(p, why)
  }

  private async read (): Promise<{ members: string[], leases: Map<number, Lease> }> {
    const { kv } = this.o
    const keys: string[] = []
    for await (const k of await kv.keys()) keys.push(k)
    const entries = await Promise.all(keys.map((k) => kv.get(k)))
    const members: string[] = []
    const leases = new Map<number, Lease>()
    entries.forEach((e: KvEntry | null) => {
      if (e === null || e.operation !== 'PUT') return
      if (e.key.startsWith('m.')) members.push(e.key.slice(2))
      else if (e.key.startsWith('p.')) leases.set(Number(e.key.slice(2)), e.json<Lease>())
    })
    return { members: members.sort(), leases }
  }

  /** Stops ticking, gives the leases back and removes the heartbeat, so the others take over at once. */
  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    await this.ticking
    const { kv, instance } = this.o
    const back = [...this.held].map(([p, rev]) => {
      this.lose(p, 'the instance is stopping')
      return kv.delete(leaseKey(p), { previousSeq: rev }).catch(() => {})
    })
    await Promise.all([...back, kv.delete(memberKey(instance)).catch(() => {})])
  }
}
