import { streamKey, type LogRecord } from '../ingest/record.js'
import type { IngestBatch, StreamRef } from '../protocol.js'

const NONE: string[] = []

/** Collects records bound for one shard into the column layout of an IngestBatch. */
export class BatchBuilder {
  private readonly streamIndex = new Map<string, number>()
  private readonly streams: StreamRef[] = []
  private readonly idx: number[] = []
  private readonly ts: number[] = []
  private readonly seq: number[] = []
  private readonly messages: string[] = []
  private readonly attrCount: number[] = []
  private readonly attrs: string[] = []

  /** Total message and attribute length, for memory accounting. */
  chars = 0

  get size (): number { return this.ts.length }

  add (record: LogRecord, seq: number): void {
    const labels = record.labels ?? NONE
    const key = streamKey(record.service, labels)
    let i = this.streamIndex.get(key)
    if (i === undefined) {
      i = this.streams.length
      this.streams.push({ service: record.service, labels })
      this.streamIndex.set(key, i)
    }
    this.idx.push(i)
    this.ts.push(record.ts)
    this.seq.push(seq)
    this.messages.push(record.message)
    this.chars += record.message.length
    const pairs = record.attributes
    if (pairs === null) {
      this.attrCount.push(0)
    } else {
      this.attrCount.push(pairs.length / 2)
      for (const s of pairs) {
        this.attrs.push(s)
        this.chars += s.length
      }
    }
  }

  build (): IngestBatch {
    return {
      streams: this.streams,
      streamIdx: Uint32Array.from(this.idx),
      ts: Float64Array.from(this.ts),
      seq: Float64Array.from(this.seq),
      messages: this.messages,
      attrCount: Uint8Array.from(this.attrCount),
      attrs: this.attrs
    }
  }
}
