import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream'
import type { Logger } from 'pino'
import { shardOf } from '../core/hash.js'
import { ClusterUnavailableError, QueryTimeoutError, retryAfter } from '../core/errors.js'
import type { LogRecord } from '../ingest/record.js'
import type { Shard } from '../shards/shard.js'
import { readBatch, seqOf } from './entry-batch.js'
import type { ClusterNames } from './names.js'

// The owner's side of a partition: an ordered consumer of its subject, from
// the message after the last one this instance applied (the first, for a
// partition it never held), whose entries go to this instance's own shards
// (the worker threads, by the service hash over SHARDS). `applied` is the
// stream sequence up to which everything of the partition is stored here; a
// query waits until it reaches the partition's last sequence at the query's
// start (read your writes). A partition given up and taken again later goes
// on from where it stopped, so nothing is stored twice.

/** Messages applied at once (each a round trip to the shards); more wait for the oldest. */
const IN_FLIGHT = 16
/** ms before a feed whose shards refused a message starts again from the last one applied. */
const RETRY_MS = 1000
/**
 * A feed that a query waits on and that applied nothing for this long starts
 * its consumer again: an ordered consumer whose NATS server died can stay
 * silent (seen after kill -9 of a server of three) until it is made anew.
 */
const STALL_MS = 2000

interface Waiter { upTo: number, resolve: () => void, reject: (err: Error) => void, timer: NodeJS.Timeout }

class Feed {
  applied = 0
  /** Messages the consumer last said remain after the one it delivered, plus those delivered and not applied yet (the lag metric). */
  pending = 0
  inFlight = 0
  /** When (performance.now()) `applied` last moved, or the consumer was last made. */
  progressed = performance.now()
  running = false
  messages: ConsumerMessages | null = null
  readonly waiters = new Set<Waiter>()
}

export interface FeedOptions {
  js: JetStreamClient
  names: ClusterNames
  /** This instance's own shards (worker threads). */
  shards: readonly Shard[]
  log: Logger
}

export class PartitionFeeds {
  private readonly feeds = new Map<number, Feed>()
  /** Entries the shards refused (MAX_SERVICES) while replaying: acknowledged, but not stored on this instance. */
  refused = 0
  private readonly watchdog: NodeJS.Timeout

  constructor (private readonly o: FeedOptions) {
    this.watchdog = setInterval(() => this.unstall(), STALL_MS / 2)
    this.watchdog.unref()
  }

  /** Starts again the consumer of every feed a query waits on that has not moved for STALL_MS. */
  private unstall (): void {
    const now = performance.now()
    for (const [p, f] of this.feeds) {
      if (!f.running || f.waiters.size === 0 || f.messages === null || now - f.progressed < STALL_MS) continue
      this.o.log.warn({ partition: p, applied: f.applied }, 'partition feed made no progress while a query waited; making its consumer anew')
      f.progressed = now
      f.messages.stop()
    }
  }

  private feed (p: number): Feed {
    let f = this.feeds.get(p)
    if (f === undefined) this.feeds.set(p, f = new Feed())
    return f
  }

  /** Partitions being consumed. */
  get running (): number[] {
    return [...this.feeds].filter(([, f]) => f.running).map(([p]) => p).sort((a, b) => a - b)
  }

  /** Messages of p published and not applied here, as the consumer last said. */
  lag (p: number): number {
    const f = this.feeds.get(p)
    return f === undefined ? 0 : f.pending + f.inFlight
  }

  owns (p: number): boolean {
    return this.feeds.get(p)?.running === true
  }

  start (p: number): void {
    const f = this.feed(p)
    if (f.running) return
    f.running = true
    this.consume(p, f).catch((err: unknown) => this.o.log.error({ partition: p, err: (err as Error).message }, 'partition feed failed'))
  }

  stop (p: number, why: string): void {
    const f = this.feeds.get(p)
    if (f === undefined || !f.running) return
    f.running = false
    f.messages?.stop()
    f.messages = null
    for (const w of f.waiters) {
      clearTimeout(w.timer)
      w.reject(retryAfter(new ClusterUnavailableError(`partition ${p} moved from this instance (${why}); retry in 1s`), 1))
    }
    f.waiters.clear()
  }

  /** Resolves once everything of p up to stream sequence `upTo` is stored here; a 503 at `deadline` (epoch ms). */
  whenApplied (p: number, upTo: number, deadline: number): Promise<void> {
    const f = this.feeds.get(p)
    if (f === undefined || !f.running) return Promise.reject(retryAfter(new ClusterUnavailableError(`partition ${p} is not owned by this instance; retry in 1s`), 1))
    if (f.applied >= upTo) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        upTo,
        resolve,
        reject,
        timer: setTimeout(() => {
          f.waiters.delete(w)
          reject(retryAfter(new QueryTimeoutError(`partition ${p} is still catching up with the stream (applied ${f.applied} of ${upTo}) at QUERY_TIMEOUT; retry in a moment`), 1))
        }, Math.max(0, deadline - Date.now()))
      }
      f.waiters.add(w)
    })
  }

  private advance (f: Feed, seq: number): void {
    f.applied = seq
    f.progressed = performance.now()
    for (const w of f.waiters) {
      if (w.upTo > seq) continue
      clearTimeout(w.timer)
      f.waiters.delete(w)
      w.resolve()
    }
  }

  /** Stores one message's entries on this instance's shards; resolves when every shard involved has. */
  private async apply (records: LogRecord[], streamSeq: number): Promise<void> {
    const shards = this.o.shards
    const lists: LogRecord[][] = shards.map(() => [])
    const seqs: number[][] = shards.map(() => [])
    records.forEach((r, i) => {
      const s = shardOf(r.service, shards.length)
      lists[s]!.push(r)
      seqs[s]!.push(seqOf(streamSeq, i))
    })
    const full = await Promise.all(lists.map((list, s) => list.length === 0 ? [] : shards[s]!.ingest(list, seqs[s]!)))
    for (const f of full) this.refused += f.length
  }

  private async consume (p: number, f: Feed): Promise<void> {
    const { js, names, log } = this.o
    while (f.running) {
      try {
        const start = f.applied + 1
        const consumer = await js.consumers.get(names.stream, {
          filter_subjects: names.partition(p),
          ...(start === 1 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start })
        })
        if (!f.running) return
        const messages = f.messages = await consumer.consume({ max_messages: 256 })
        f.progressed = performance.now()
        const inFlight: Array<Promise<void>> = []
        // Each message's entries are applied in stream order; `applied` moves once all before it are stored.
        let chain: Promise<void> = Promise.resolve()
        for await (const m of messages) {
          if (!f.running) break
          const seq = m.seq
          f.pending = m.info.pending
          let records: LogRecord[]
          try {
            records = readBatch(m.data)
          } catch (err) {
            log.error({ partition: p, seq, err: (err as Error).message }, 'skipped a message that is not a logagg entry batch')
            chain = chain.then(() => this.advance(f, seq))
            continue
          }
          f.inFlight++
          const stored = this.apply(records, seq).finally(() => { f.inFlight-- })
          chain = Promise.all([chain, stored]).then(() => this.advance(f, seq))
          // Awaited below or, once one failed, by nobody: a failure is handled either way.
          chain.catch(() => {})
          inFlight.push(chain)
          if (inFlight.length >= IN_FLIGHT) await inFlight.shift()
        }
        await chain
      } catch (err) {
        if (!f.running) return
        // A shard refused (it is restarting) or the consumer failed: start again after the last message applied.
        log.warn({ partition: p, applied: f.applied, err: (err as Error).message }, 'partition feed stopped; starting it again')
        f.messages?.stop()
        f.messages = null
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
      }
    }
  }

  close (): void {
    clearInterval(this.watchdog)
    for (const p of [...this.feeds.keys()]) this.stop(p, 'the instance is stopping')
  }
}
