import type { Pairs } from './block.js'
import { EntryRecordWriter } from './disk/entry-record.js'
import type { Stream } from './stream.js'

/**
 * The entries of one ingest request on a shard with a data folder: written
 * to a write-ahead log record as they are accepted, and kept here to be
 * stored once that record is on disk (ShardStore.applyStaged), so what a
 * query can read has always been logged.
 */
export class Staging {
  readonly record: EntryRecordWriter
  readonly streams: Stream[] = []
  readonly ts: number[] = []
  readonly seq: number[] = []
  readonly messages: string[] = []
  readonly attrs: Array<Pairs | null> = []

  constructor (sizeHint?: number) {
    this.record = new EntryRecordWriter(sizeHint)
  }

  get size (): number { return this.ts.length }

  push (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null): void {
    this.record.entry(stream, stream.service, stream.labels, ts, seq, message, attrs)
    this.streams.push(stream)
    this.ts.push(ts)
    this.seq.push(seq)
    this.messages.push(message)
    this.attrs.push(attrs)
  }
}
