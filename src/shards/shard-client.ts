import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { SHARD_ERRORS, ShardUnavailableError, TooManyQueriesError, retryAfter } from '../errors.js'
import type { LogRecord } from '../ingest/record.js'
import type { LabelMatcher } from '../logql/ast.js'
import { NO_USAGE, type LineBatch, type QueryPart, type Recovery, type ServiceStats, type ShardCounters, type ShardInit, type ShardQuery, type ShardReply, type ShardRequest, type StreamStats, type TailBatch, type Usage } from '../protocol.js'
import { BatchBuilder } from './batch-builder.js'

export const SHARD_WORKER_FILE = fileURLToPath(new URL('../../workers/shard.js', import.meta.url))

/** Restart delays after a crash: doubling from the first to the last, reset once a worker stays up. */
const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 10_000
const STABLE_AFTER_MS = 10_000
/** At most this long is waited for a dead worker's thread to be torn down before a new one starts. */
const DESTROY_WAIT_MS = 1000

/**
 * A shard's young generation, MiB. V8's default lets it grow to 48 MiB per
 * thread, all of it resident; what a shard allocates per batch (parsed lines)
 * dies within the batch, so a small one costs little time and saves
 * resident memory (bench: RSS per stored entry).
 */
const SHARD_YOUNG_GENERATION_MB = 8

/**
 * Tasks in flight to one shard worker at a time. Queries take at most
 * MAX_QUERY_CONCURRENCY of them, so ingest and cancel messages always find a
 * free slot, however many queries are running.
 */
const PIPELINE = 32
export const MAX_QUERY_CONCURRENCY = PIPELINE / 2

/** piscina's summary of a timing histogram (ms: mean, min, max, p50, p99, ...). */
export type TimingSummary = Piscina['histogram']['runTime']

export type ShardState = 'starting' | 'ready' | 'down' | 'closed'

export interface ShardClientOptions {
  /** The worker module; tests pass a fixture that can crash on purpose. */
  workerFile?: string
  /** Heap limit for the worker, MiB. */
  maxHeapMb?: number
  /** Queries one shard runs at a time; more answer 503 (QUERY_CONCURRENCY). */
  queryConcurrency?: number
  /** Called on crashes and restarts, for the server log. */
  onEvent?: (event: 'crashed' | 'restarted', detail: { shard: number, error?: string, restartInMs?: number, restarts: number }) => void
  /** Called when a worker with a data folder has loaded it (at start and after each restart), before it is ready. */
  onRecovered?: (shard: number, recovery: Recovery) => void
  /** Called when the shard's last disk failure (a sync on a timer, a checkpoint) changes: a new one, or null once it recovered. */
  onDiskError?: (shard: number, error: string | null) => void
}

/**
 * The front thread's handle on one shard: a single-thread piscina pool, supervised.
 *
 * Ingest is coalesced: every entry enqueued during one turn of the event loop
 * goes out as one batch when setImmediate fires, and each caller's promise
 * settles when that batch is stored (ack-after-store, one message per shard
 * per turn rather than per request).
 *
 * If the worker dies, its requests in flight fail with a 503, calls fail fast
 * with a 503 while it is down, and a new worker starts after a backoff that
 * doubles while workers keep dying soon after they start.
 */
export class ShardClient {
  private pool: Piscina<ShardRequest, ShardReply> | null = null
  private pending: { builder: BatchBuilder, stored: Promise<number[]>, send: () => void } | null = null
  private restartTimer: NodeJS.Timeout | null = null
  private startedAt = 0
  private backoffMs = BACKOFF_FIRST_MS
  private ready: Promise<void> = Promise.resolve()
  state: ShardState = 'starting'
  restarts = 0
  /** Entries handed to this shard and not yet acknowledged by it (queued or in flight). */
  pendingEntries = 0
  /** Total message length of those entries. */
  pendingChars = 0
  /** What the shard last said it holds. */
  usage: Usage = NO_USAGE
  /** Queries sent to this shard and not answered yet. */
  queries = 0
  /** What the current worker loaded from its data folder; null without DATA_DIR. */
  recovery: Recovery | null = null

  constructor (readonly init: ShardInit, private readonly options: ShardClientOptions = {}) {
    this.ready = this.spawn()
  }

  /** Resolves once the current worker has answered hello. */
  whenReady (): Promise<void> {
    return this.ready
  }

  private spawn (): Promise<void> {
    this.state = 'starting'
    const pool = new Piscina<ShardRequest, ShardReply>({
      filename: this.options.workerFile ?? SHARD_WORKER_FILE,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      // 'sync' would park the worker in Atomics.wait between tasks and starve its purge timer.
      atomics: 'disabled',
      // Hand the worker up to this many tasks before the first is answered, so
      // round trips overlap (bench/thread-hop.ts: about 4× the calls/s of one at
      // a time). Order is kept: the port is FIFO and the handler synchronous.
      concurrentTasksPerWorker: PIPELINE,
      workerData: this.init,
      resourceLimits: {
        maxYoungGenerationSizeMb: SHARD_YOUNG_GENERATION_MB,
        ...(this.options.maxHeapMb === undefined ? {} : { maxOldGenerationSizeMb: this.options.maxHeapMb })
      }
    })
    this.pool = pool
    pool.on('workerDestroy', () => this.onDeath(pool, 'worker exited'))
    pool.on('error', (err: Error) => this.onDeath(pool, err.message))
    this.startedAt = Date.now()
    return this.run(pool, { type: 'hello' }).then(
      (reply) => {
        if (this.pool !== pool) return
        if (reply.type === 'ready' && reply.recovery !== null) {
          this.recovery = reply.recovery
          this.options.onRecovered?.(this.init.shard, reply.recovery)
        }
        this.state = 'ready'
      },
      (err: Error) => this.onDeath(pool, err.message)
    )
  }

  private onDeath (pool: Piscina, error: string): void {
    if (this.pool !== pool || this.state === 'closed') return // old pool, or our own close
    this.pool = null
    this.state = 'down'
    // Stop piscina from replacing the worker on its own; we restart with backoff instead.
    // The new worker starts only once the old thread is gone: with DATA_DIR they must never share the
    // folder. (destroy() waits for an 'exit' event, which a thread that already exited never sends again.)
    const destroyed = Promise.race([pool.destroy().catch(() => {}), new Promise<void>((resolve) => setTimeout(resolve, DESTROY_WAIT_MS).unref())])
    const upFor = Date.now() - this.startedAt
    if (upFor > STABLE_AFTER_MS) this.backoffMs = BACKOFF_FIRST_MS
    const delay = this.backoffMs
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS)
    this.options.onEvent?.('crashed', { shard: this.init.shard, error, restartInMs: delay, restarts: this.restarts })
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null
      this.ready = destroyed.then(() => {
        if (this.state === 'closed') return
        this.restarts++
        this.usage = NO_USAGE
        this.options.onEvent?.('restarted', { shard: this.init.shard, restarts: this.restarts })
        return this.spawn()
      })
    }, delay).unref()
  }

  private unavailable (reason: string): Error {
    const seconds = Math.max(1, Math.ceil(this.backoffMs / 1000))
    return retryAfter(new ShardUnavailableError(`shard ${this.init.shard} ${reason}; retry in ${seconds}s`), seconds)
  }

  private async run (pool: Piscina<ShardRequest, ShardReply>, req: ShardRequest, transferList?: ArrayBuffer[]): Promise<ShardReply> {
    const reply = await pool.run(req, transferList === undefined ? undefined : { transferList })
    if (this.pool === pool) {
      const error = reply.usage.disk?.error ?? null
      if (error !== (this.usage.disk?.error ?? null)) this.options.onDiskError?.(this.init.shard, error)
      this.usage = reply.usage
    }
    return reply
  }

  private async call (req: ShardRequest, transferList?: ArrayBuffer[]): Promise<ShardReply> {
    const pool = this.pool
    if (pool === null || this.state !== 'ready') {
      throw this.unavailable(this.state === 'starting'
        ? 'is starting'
        : this.init.dataDir === '' ? 'is restarting after a crash; the entries it held were lost' : 'is restarting after a crash and reloading what it acknowledged from DATA_DIR')
    }
    let reply: ShardReply
    try {
      reply = await this.run(pool, req, transferList)
    } catch (err) {
      throw this.unavailable(`failed while handling the request (${(err as Error).message})`)
    }
    if (reply.type === 'error') {
      const ErrorClass = SHARD_ERRORS[reply.code]
      if (ErrorClass === undefined) throw new Error(`shard ${this.init.shard}: ${reply.code}: ${reply.message}`)
      throw new ErrorClass(reply.message)
    }
    return reply
  }

  /**
   * Queues records, with their sequence numbers; the promise settles once the
   * shard has stored them, with the indexes (into `records`) it refused
   * because it holds its share of MAX_SERVICES. Every record queued during
   * one event-loop turn goes out in one batch.
   */
  enqueue (records: readonly LogRecord[], seqs: readonly number[]): Promise<number[]> {
    let pending = this.pending
    if (pending === null) {
      const builder = new BatchBuilder()
      let send = (): void => {}
      const stored = new Promise<number[]>((resolve, reject) => {
        send = () => {
          if (this.pending?.builder !== builder) return // sent already
          this.pending = null
          this.sendBatch(builder).then(resolve, reject)
        }
      })
      setImmediate(send)
      pending = this.pending = { builder, stored, send }
    }
    const { builder } = pending
    const offset = builder.size
    const chars = builder.chars
    for (let i = 0; i < records.length; i++) builder.add(records[i]!, seqs[i]!)
    this.pendingEntries += records.length
    this.pendingChars += builder.chars - chars
    const end = offset + records.length
    return pending.stored.then((full) => {
      const mine: number[] = []
      for (const i of full) if (i >= offset && i < end) mine.push(i - offset)
      return mine
    })
  }

  private async sendBatch (builder: BatchBuilder): Promise<number[]> {
    const batch = builder.build()
    try {
      // The number columns share one buffer (BatchBuilder.build).
      const reply = await this.call({ type: 'ingest', batch }, [batch.ts.buffer])
      if (reply.type !== 'stored') throw new Error(`shard ${this.init.shard} answered ingest with ${reply.type}`)
      return reply.full
    } finally {
      this.pendingEntries -= builder.size
      this.pendingChars -= builder.chars
    }
  }

  /**
   * Sends NDJSON lines (`chars` long in all) for the shard to parse and store. Entries queued
   * before them go out first: a shard must receive entries in seq order.
   */
  async ingestLines (batch: LineBatch, chars: number): Promise<Extract<ShardReply, { type: 'stored-lines' }>> {
    this.pending?.send()
    const n = batch.index.length
    this.pendingEntries += n
    this.pendingChars += chars
    try {
      const transfer = [batch.starts.buffer, batch.ends.buffer, batch.index.buffer, batch.seq.buffer]
      if (typeof batch.text !== 'string') transfer.push(batch.text.buffer)
      const reply = await this.call({ type: 'ingest-lines', batch }, transfer)
      if (reply.type !== 'stored-lines') throw new Error(`shard ${this.init.shard} answered lines with ${reply.type}`)
      return reply
    } finally {
      this.pendingEntries -= n
      this.pendingChars -= chars
    }
  }

  /**
   * Runs a query. At most `queryConcurrency` run at once on one shard (more
   * answer 503 at once); when `signal` aborts, the shard is told to stop it.
   */
  async query (query: ShardQuery, signal?: AbortSignal): Promise<QueryPart> {
    const cap = this.options.queryConcurrency ?? Infinity
    if (this.queries >= cap) {
      throw retryAfter(new TooManyQueriesError(`shard ${this.init.shard} is already running ${cap} queries (QUERY_CONCURRENCY); retry in a moment`), 1)
    }
    // A query holds its slot until the shard answers, even once cancelled (it
    // stops at its next slice, within milliseconds): that way queries never
    // hold more than half of the shard's task slots, and ingest always gets in.
    this.queries++
    const cancel = (): void => { this.call({ type: 'cancel', id: query.id }).catch(() => {}) }
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      const reply = await this.call({ type: 'query', query })
      if (reply.type !== 'result') throw new Error(`shard ${this.init.shard} answered a query with ${reply.type}`)
      return reply.part
    } finally {
      this.queries--
      signal?.removeEventListener('abort', cancel)
    }
  }

  async services (after: string | null, limit: number): Promise<{ services: ServiceStats[], complete: boolean }> {
    const reply = await this.call({ type: 'services', after, limit })
    if (reply.type !== 'services') throw new Error(`shard ${this.init.shard} answered services with ${reply.type}`)
    return reply
  }

  async streams (start: number, end: number, selector: LabelMatcher[] | null, limit: number): Promise<{ streams: StreamStats[], complete: boolean }> {
    const reply = await this.call({ type: 'streams', start, end, selector, limit })
    if (reply.type !== 'streams') throw new Error(`shard ${this.init.shard} answered streams with ${reply.type}`)
    return reply
  }

  /** Sends a tail request; the answer is what the shard's tails got ('tail-poll') or nothing. */
  async tail (req: Extract<ShardRequest, { type: 'tail-subscribe' | 'tail-unsubscribe' | 'tail-poll' }>): Promise<{ batches: TailBatch[], unknown: number[] }> {
    const reply = await this.call(req)
    if (reply.type !== 'tail') throw new Error(`shard ${this.init.shard} answered ${req.type} with ${reply.type}`)
    return reply
  }

  /**
   * What the shard holds and its housekeeping totals; null while it is down.
   * Like every reply, it refreshes `usage` (room freed by purge is seen without waiting for the next ingest).
   */
  async stats (): Promise<{ usage: Usage, counters: ShardCounters } | null> {
    if (this.state !== 'ready') return null
    const reply = await this.call({ type: 'stats' }).catch(() => null)
    return reply?.type === 'stats' ? reply : null
  }

  /**
   * piscina's timings of this worker's tasks, ms: how long each ran, and how
   * long it waited for the worker; null while it is down. They start over when
   * the worker restarts.
   */
  get timings (): { runTime: TimingSummary, waitTime: TimingSummary } | null {
    const pool = this.pool
    return pool === null ? null : { runTime: pool.histogram.runTime, waitTime: pool.histogram.waitTime }
  }

  /** The shard's worker thread, for tests that need to kill it. */
  get thread (): import('node:worker_threads').Worker | undefined {
    return this.pool?.threads[0]
  }

  /** Sends a message outside the protocol, for test fixtures only. */
  async sendRaw (message: object): Promise<unknown> {
    return this.pool?.run(message as ShardRequest)
  }

  async close (): Promise<void> {
    if (this.pending !== null) await this.pending.stored.catch(() => {})
    this.state = 'closed'
    if (this.restartTimer !== null) clearTimeout(this.restartTimer)
    const pool = this.pool
    this.pool = null
    await pool?.close()
  }
}
