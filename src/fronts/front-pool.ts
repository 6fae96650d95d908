import { fileURLToPath } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { MetricsJson } from '../metrics/server-metrics.js'
import type { Settings } from '../settings/settings.js'
import type { WorkerShard } from '../transport/worker/worker-shard.js'
import { runDeleteCall, type DeleteCall, type DeleteResult } from './delete-proxy.js'
import type { DeleteApi } from '../shards/delete-requests.js'

// The front threads beyond the first (FRONTS). The first front is the thread
// that supervises the shard workers (server.ts); it starts the others, gives
// each a channel to every shard worker (again after a worker restarts),
// shares the sequence counter with them (src/shards/seqs.ts), and answers
// their /metrics with the sum of every front's counters.
//
//   first front ── supervises ──► shard workers ◄── ports ── front 1 … FRONTS−1
//        ▲                                                        │
//        └──────────── metrics, shard up/down, close ─────────────┘

export const FRONT_THREAD_FILE = fileURLToPath(new URL('./front-thread.js', import.meta.url))

/** What a front thread is started with. */
export interface FrontInit {
  front: number
  /** The settings, with the port the first front got. */
  settings: Settings
  /** The shared sequence counter (SharedSeqs.create). */
  seqs: SharedArrayBuffer
  /** Each shard's page memory (WorkerShard.pages.buffer). */
  pages: SharedArrayBuffer[]
}

/** Messages from the first front to a front thread. */
export type ToFront =
  | { type: 'shard', shard: number, port: import('node:worker_threads').MessagePort, restarts: number }
  | { type: 'shard-down', shard: number }
  | { type: 'metrics', id: number }
  | { type: 'rendered', id: number, text: string }
  /** SIGHUP: read TOKENS_FILE and LIMITS_FILE again. */
  | { type: 'reload' }
  /** The answer to a delete API call the front forwarded. */
  | { type: 'deleted', id: number, result: DeleteResult }
  | { type: 'close' }

/** Messages from a front thread to the first. */
export type FromFront =
  | { type: 'listening' }
  | { type: 'metrics', id: number, json: MetricsJson }
  | { type: 'render', id: number }
  /** A delete API call, for the first front's list. */
  | { type: 'delete', id: number, call: DeleteCall }
  | { type: 'closed' }

/** Whether this Node can listen on one port from several threads (server.listen's reusePort: 22.12 and 23.1 on). */
export function reusePortWorks (version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

/** How long a front thread that died waits before it is started again. */
const RESTART_MS = 1000

interface Front {
  worker: Worker
  listening: Promise<void>
}

export class FrontPool {
  private readonly fronts: Array<Front | null>
  private nextId = 1
  private readonly waiting = new Map<number, (json: MetricsJson) => void>()
  private closing = false

  constructor (
    private readonly settings: Settings,
    private readonly shards: readonly WorkerShard[],
    private readonly seqs: SharedArrayBuffer,
    private readonly log: Logger,
    /** Renders the whole server's /metrics (the first front's ServerMetrics, which calls metrics() here). */
    private readonly render: () => Promise<string>,
    count: number,
    /** The delete requests, kept here (shards/delete-requests.ts). */
    private readonly deletes: DeleteApi
  ) {
    this.fronts = Array.from({ length: count }, () => null)
  }

  /** Starts the front threads on `port`; resolves once every one listens. */
  async start (port: number): Promise<void> {
    const listening: Array<Promise<void>> = []
    for (let i = 0; i < this.fronts.length; i++) listening.push(this.spawn(i + 1, port))
    await Promise.all(listening)
  }

  private spawn (front: number, port: number): Promise<void> {
    const init: FrontInit = { front, settings: { ...this.settings, port }, seqs: this.seqs, pages: this.shards.map((s) => s.pages.buffer) }
    // The name is the thread's name in /proc (bench/thread-cpu.ts tells the fronts apart by it).
    const worker = new Worker(FRONT_THREAD_FILE, { workerData: init, name: `logagg-front-${front}` })
    let listened = (): void => {}
    let failed = (_err: Error): void => {}
    const listening = new Promise<void>((resolve, reject) => {
      listened = resolve
      failed = reject
    })
    const entry: Front = { worker, listening }
    this.fronts[front - 1] = entry
    worker.on('message', (m: FromFront) => {
      switch (m.type) {
        case 'listening':
          listened()
          break
        case 'metrics':
          this.waiting.get(m.id)?.(m.json)
          this.waiting.delete(m.id)
          break
        case 'render':
          this.render().then((text) => worker.postMessage({ type: 'rendered', id: m.id, text } satisfies ToFront), () => worker.postMessage({ type: 'rendered', id: m.id, text: '' } satisfies ToFront))
          break
        case 'delete':
          runDeleteCall(this.deletes, m.call).then((result) => worker.postMessage({ type: 'deleted', id: m.id, result } satisfies ToFront), () => worker.postMessage({ type: 'deleted', id: m.id, result: 'unknown' } satisfies ToFront))
          break
        case 'closed':
          break
      }
    })
    worker.on('error', (err) => {
      failed(err)
      this.log.error({ front, err }, 'front thread failed')
    })
    worker.on('exit', (code) => {
      if (this.fronts[front - 1] !== entry) return
      this.fronts[front - 1] = null
      if (this.closing) return
      this.log.error({ front, code, restartInMs: RESTART_MS }, 'front thread exited; starting it again')
      setTimeout(() => { if (!this.closing) this.spawn(front, port).catch(() => {}) }, RESTART_MS).unref()
    })
    for (const shard of this.shards) if (shard.state === 'ready') this.connect(entry, shard)
    return listening
  }

  /** Gives front `entry` a channel to `shard`'s current worker. */
  private connect (entry: Front, shard: WorkerShard): void {
    const { port1, port2 } = new MessageChannel()
    shard.attach(port1).then(
      () => entry.worker.postMessage({ type: 'shard', shard: shard.id, port: port2, restarts: shard.restarts } satisfies ToFront, [port2]),
      () => port2.close() // it died meanwhile: its next 'ready' connects again
    )
  }

  /** A shard's worker said it is ready (again): every front gets a channel to it. */
  shardReady (shard: number): void {
    for (const f of this.fronts) if (f !== null) this.connect(f, this.shards[shard]!)
  }

  /** A shard's worker died: the fronts answer 503 for it at once, not when their channel closes. */
  shardDown (shard: number): void {
    for (const f of this.fronts) f?.worker.postMessage({ type: 'shard-down', shard } satisfies ToFront)
  }

  /** Every other front's own counters, for a scrape. A front that does not answer within a second is left out. */
  async metrics (): Promise<MetricsJson[]> {
    const asks = this.fronts.map((f) => {
      if (f === null) return Promise.resolve<MetricsJson>([])
      const id = this.nextId++
      return new Promise<MetricsJson>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(id)
          resolve([])
        }, 1000).unref()
        this.waiting.set(id, (json) => {
          clearTimeout(timer)
          resolve(json)
        })
        f.worker.postMessage({ type: 'metrics', id } satisfies ToFront)
      })
    })
    return await Promise.all(asks)
  }

  /** Tells every front to stop accepting and finish its requests; resolves once all have exited. */
  /** Tells every front thread to read its settings files again (SIGHUP). */
  reload (): void {
    for (const f of this.fronts) f?.worker.postMessage({ type: 'reload' } satisfies ToFront)
  }

  async close (): Promise<void> {
    this.closing = true
    await Promise.all(this.fronts.map(async (f) => {
      if (f === null) return
      const exited = new Promise<void>((resolve) => f.worker.once('exit', () => resolve()))
      f.worker.postMessage({ type: 'close' } satisfies ToFront)
      await exited
    }))
  }
}
