import type { LogRecord } from '../ingest/record.js'
import type { IngestBatch } from '../store/shard-messages.js'
import { BatchBuilder } from '../shards/batch-builder.js'

/**
 * Coalesces ingest for one shard: every entry added during one turn of the
 * event loop goes out as one batch when setImmediate fires, and each caller's
 * promise settles when that batch is stored (ack-after-store, one message per
 * shard per turn rather than per request). Transport-neutral: it is handed
 * the function that sends a batch.
 */
export class IngestCoalescer {
  private pending: { builder: BatchBuilder, stored: Promise<number[]>, send: () => void } | null = null

  constructor (private readonly sendBatch: (batch: IngestBatch) => Promise<number[]>) {}

  /**
   * Adds records with their sequence numbers; settles with the indexes (into
   * `records`) the shard refused (it holds its share of MAX_SERVICES).
   */
  add (records: readonly LogRecord[], seqs: readonly number[]): Promise<number[]> {
    let pending = this.pending
    if (pending === null) {
      const builder = new BatchBuilder()
      let send = (): void => {}
      const stored = new Promise<number[]>((resolve, reject) => {
        send = () => {
          if (this.pending?.builder !== builder) return // sent already
          this.pending = null
          this.sendBatch(builder.build()).then(resolve, reject)
        }
      })
      setImmediate(send)
      pending = this.pending = { builder, stored, send }
    }
    const { builder } = pending
    const offset = builder.size
    for (let i = 0; i < records.length; i++) builder.add(records[i]!, seqs[i]!)
    const end = offset + records.length
    return pending.stored.then((full) => {
      const mine: number[] = []
      for (const i of full) if (i >= offset && i < end) mine.push(i - offset)
      return mine
    })
  }

  /** Sends what is queued now rather than at the end of the turn (what is sent next must come after it). */
  flush (): void {
    this.pending?.send()
  }

  /** Resolves once what is queued has been sent and answered (or failed). */
  async drain (): Promise<void> {
    if (this.pending !== null) await this.pending.stored.catch(() => {})
  }
}
