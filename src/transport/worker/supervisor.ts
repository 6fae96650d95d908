import { fileURLToPath } from 'node:url'
import type { MessagePort, Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { ShardUnavailableError, retryAfter } from '../../core/errors.js'
import type { Recovery, ShardInit, ShardReply, ShardRequest } from '../../store/shard-messages.js'
import type { ShardEvents, ShardState, ShardTimings } from '../../shards/shard.js'

export const SHARD_WORKER_FILE = fileURLToPath(new URL('../../../workers/shard.js', import.meta.url))

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
 * Tasks in flight to one shard worker at a time. QUERY_CONCURRENCY (at most
 * 16, settings.ts; counted by the router's admission) keeps queries to half
 * of them, so ingest and cancel messages always find a free slot, however
 * many queries are running.
 */
const PIPELINE = 32

export interface SupervisorOptions extends ShardEvents {
  /** The worker module; tests pass a fixture that can crash on purpose. */
  workerFile?: string
  /** Heap limit for the worker, MiB. */
  maxHeapMb?: number
  /** A worker said it is ready: at start and after each restart (other front threads are then given ports to it: attach). */
  onReady?: (shard: number) => void
}

/**
 * One shard's worker thread, a single-thread piscina pool, supervised: if the
 * worker dies, its requests in flight fail with a 503, calls fail fast with a
 * 503 while it is down, and a new worker starts after a backoff that doubles
 * while workers keep dying soon after they start. A worker says hello (ready)
 * before it is given work.
 */
export class Supervisor {
  private pool: Piscina<ShardRequest, ShardReply> | null = null
  private restartTimer: NodeJS.Timeout | null = null
  private startedAt = 0
  private backoffMs = BACKOFF_FIRST_MS
  private ready: Promise<void>
  state: ShardState = 'starting'
  restarts = 0
  /** What the current worker loaded from its data folder; null without DATA_DIR. */
  recovery: Recovery | null = null

  constructor (
    private readonly init: ShardInit,
    private readonly options: SupervisorOptions,
    /** Sees every reply of the current worker (not of one that died), hello's included. */
    private readonly onReply: (reply: ShardReply) => void,
    /** Called as a new worker is started after a crash. */
    private readonly onRestart: () => void
  ) {
    this.ready = this.spawn()
  }

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
    return this.send(pool, { type: 'hello' }).then(
      (reply) => {
        if (this.pool !== pool) return
        if (reply.type === 'ready' && reply.recovery !== null) {
          this.recovery = reply.recovery
          this.options.onRecovered?.(this.init.shard, reply.recovery)
        }
        this.state = 'ready'
        this.options.onReady?.(this.init.shard)
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
        this.onRestart()
        this.options.onEvent?.('restarted', { shard: this.init.shard, restarts: this.restarts })
        return this.spawn()
      })
    }, delay).unref()
  }

  private unavailable (reason: string): Error {
    const seconds = Math.max(1, Math.ceil(this.backoffMs / 1000))
    return retryAfter(new ShardUnavailableError(`shard ${this.init.shard} ${reason}; retry in ${seconds}s`), seconds)
  }

  private async send (pool: Piscina<ShardRequest, ShardReply>, req: ShardRequest, transferList?: ArrayBuffer[]): Promise<ShardReply> {
    const reply = await pool.run(req, transferList === undefined ? undefined : { transferList })
    if (this.pool === pool) this.onReply(reply)
    return reply
  }

  /** Sends a request to the ready worker; a 503 (ShardUnavailableError) while it is not, or if it fails meanwhile. */
  async run (req: ShardRequest, transferList?: ArrayBuffer[]): Promise<ShardReply> {
    const pool = this.pool
    if (pool === null || this.state !== 'ready') {
      throw this.unavailable(this.state === 'starting'
        ? 'is starting'
        : this.init.dataDir === '' ? 'is restarting after a crash; the entries it held were lost' : 'is restarting after a crash and reloading what it acknowledged from DATA_DIR')
    }
    try {
      return await this.send(pool, req, transferList)
    } catch (err) {
      throw this.unavailable(`failed while handling the request (${(err as Error).message})`)
    }
  }

  /** piscina's timings of this worker's tasks, ms; null while it is down. They start over when the worker restarts. */
  get timings (): ShardTimings | null {
    const pool = this.pool
    return pool === null ? null : { runTime: pool.histogram.runTime, waitTime: pool.histogram.waitTime }
  }

  /**
   * Hands the current worker one end of a channel it then answers requests
   * on, as it does this thread's (workers/shard.ts); the channel closes when
   * the worker dies. Outside the shard protocol: a port is no plain data.
   */
  async attach (port: MessagePort): Promise<void> {
    const pool = this.pool
    if (pool === null || this.state !== 'ready') throw this.unavailable('is not running')
    await pool.run({ type: 'attach', port } as unknown as ShardRequest, { transferList: [port] as never })
  }

  /** The worker thread, for tests that need to kill it. */
  get thread (): Worker | undefined {
    return this.pool?.threads[0]
  }

  /** Sends a message outside the protocol, for test fixtures only. */
  async sendRaw (message: object): Promise<unknown> {
    return this.pool?.run(message as ShardRequest)
  }

  async close (): Promise<void> {
    this.state = 'closed'
    if (this.restartTimer !== null) clearTimeout(this.restartTimer)
    const pool = this.pool
    this.pool = null
    await pool?.close()
  }
}
