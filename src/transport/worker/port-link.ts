import type { MessagePort } from 'node:worker_threads'
import { ShardUnavailableError, retryAfter } from '../../core/errors.js'
import type { Recovery, ShardReply, ShardRequest } from '../../store/shard-messages.js'
import type { ShardState, ShardTimings } from '../../shards/shard.js'
import type { ShardLink } from './linked-shard.js'

// A front thread other than the first (FRONTS) reaches each shard's worker
// through a MessagePort of its own: the thread that supervises the workers
// makes a channel per front and shard, hands one end to the worker (attach)
// and the other to the front, and again after every restart. Requests carry
// an id; the worker answers each on the same port, in the order it handled
// them. Only this and the worker's servePort() know the envelope.

interface Envelope { id: number, req: ShardRequest }
type Answer = { id: number, reply: ShardReply } | { id: number, failed: string }

/** Worker side: answers the requests that come on `port` with the shard's own handler. */
export function servePort (port: MessagePort, handle: (req: ShardRequest) => ShardReply | Promise<ShardReply>): void {
  port.on('message', ({ id, req }: Envelope) => {
    let answer: ShardReply | Promise<ShardReply>
    try {
      answer = handle(req)
    } catch (err) {
      port.postMessage({ id, failed: (err as Error).message } satisfies Answer)
      return
    }
    if (!(answer instanceof Promise)) {
      port.postMessage({ id, reply: answer } satisfies Answer)
      return
    }
    answer.then(
      (reply) => port.postMessage({ id, reply } satisfies Answer),
      (err: Error) => port.postMessage({ id, failed: err.message } satisfies Answer)
    )
  })
}

/** Front side: one shard's worker through the ports the supervising thread hands this front. */
export class PortLink implements ShardLink {
  state: ShardState = 'starting'
  restarts = 0
  readonly recovery: Recovery | null = null
  readonly timings: ShardTimings | null = null
  private port: MessagePort | null = null
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (reply: ShardReply) => void, reject: (err: Error) => void }>()
  private ready!: Promise<void>
  private becameReady!: () => void

  constructor (
    private readonly shard: number,
    private readonly onReply: (reply: ShardReply) => void,
    private readonly onRestart: () => void
  ) {
    this.waitForPort()
  }

  private waitForPort (): void {
    this.ready = new Promise((resolve) => { this.becameReady = resolve })
  }

  whenReady (): Promise<void> {
    return this.ready
  }

  /** The worker (a new one after a restart) answers on `port` from now on. */
  use (port: MessagePort, restarts: number): void {
    if (this.state === 'closed') {
      port.close()
      return
    }
    this.drop('was restarted')
    if (restarts !== this.restarts) this.onRestart()
    this.restarts = restarts
    this.port = port
    port.on('message', (answer: Answer) => this.answered(answer))
    // The worker died (its end closed with its thread): down until a new port comes.
    port.on('close', () => { if (this.port === port) this.down() })
    this.state = 'ready'
    this.becameReady()
  }

  /** The worker died; requests in flight fail with a 503, new ones too until use() is called again. */
  down (): void {
    if (this.state === 'closed' || this.state === 'down') return
    this.drop('died while handling the request')
    this.state = 'down'
    this.waitForPort()
  }

  private drop (why: string): void {
    const port = this.port
    this.port = null
    if (port !== null) {
      port.removeAllListeners()
      port.close()
    }
    for (const p of this.pending.values()) p.reject(this.unavailable(why))
    this.pending.clear()
  }

  private answered (answer: Answer): void {
    const p = this.pending.get(answer.id)
    if (p === undefined) return
    this.pending.delete(answer.id)
    if ('failed' in answer) {
      p.reject(this.unavailable(`failed while handling the request (${answer.failed})`))
      return
    }
    this.onReply(answer.reply)
    p.resolve(answer.reply)
  }

  private unavailable (reason: string): Error {
    return retryAfter(new ShardUnavailableError(`shard ${this.shard} ${reason}; retry in 1s`), 1)
  }

  run (req: ShardRequest, transferList?: ArrayBuffer[]): Promise<ShardReply> {
    const port = this.port
    if (port === null || this.state !== 'ready') return Promise.reject(this.unavailable(this.state === 'starting' ? 'is starting' : 'is restarting after a crash'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      port.postMessage({ id, req } satisfies Envelope, transferList)
    })
  }

  async close (): Promise<void> {
    this.drop('is closing')
    this.state = 'closed'
  }
}
