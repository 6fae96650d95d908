import type { IngestBatch } from '../protocol.js'

/** Collects entries bound for one shard into the column layout of an IngestBatch. */
export class BatchBuilder {
  private readonly serviceIndex = new Map<string, number>()
  private readonly services: string[] = []
  private readonly idx: number[] = []
  private readonly ts: number[] = []
  private readonly seq: number[] = []
  private readonly messages: string[] = []

  /** Total message length, for memory accounting. */
  chars = 0

  get size (): number { return this.ts.length }

  add (service: string, ts: number, seq: number, message: string): void {
    let i = this.serviceIndex.get(service)
    if (i === undefined) {
      i = this.services.length
      this.services.push(service)
      this.serviceIndex.set(service, i)
    }
    this.idx.push(i)
    this.ts.push(ts)
    this.seq.push(seq)
    this.messages.push(message)
    this.chars += message.length
  }

  build (): IngestBatch {
    return {
      services: this.services,
      serviceIdx: Uint32Array.from(this.idx),
      ts: Float64Array.from(this.ts),
      seq: Float64Array.from(this.seq),
      messages: this.messages
    }
  }
}
