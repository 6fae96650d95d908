import type { EntrySink } from '../../ingest/shard-ingest.js'
import type { Pairs } from '../block.js'
import type { MemoryStore } from '../store.js'
import type { Stream } from '../stream.js'
import { EntryRecordWriter } from './entry-record.js'

/**
 * The entries of one ingest request on a shard with a data folder: written
 * to a write-ahead log record as they are put, and kept here (in columns, no
 * object per entry) to be stored by apply() once that record is on disk, so
 * what a query can read has always been logged.
 */
export class Staging implements EntrySink<Stream> {
  readonly record: EntryRecordWriter
  readonly streams: Stream[] = []
  readonly ts: number[] = []
  readonly seq: number[] = []
  readonly messages: string[] = []
  readonly attrs: Array<Pairs | null> = []

  /** `memory`: the store the streams are looked up (made) in, and apply()'s. */
  constructor (private readonly memory: MemoryStore, sizeHint?: number) {
    this.record = new EntryRecordWriter(sizeHint)
  }

  get size (): number { return this.ts.length }

  streamFor (service: string, labels: Pairs): Stream | null {
    return this.memory.streamFor(service, labels)
  }

  put (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null): void {
    this.record.entry(stream, stream.service, stream.labels, ts, seq, message, attrs)
    this.streams.push(stream)
    this.ts.push(ts)
    this.seq.push(seq)
    this.messages.push(message)
    this.attrs.push(attrs)
  }

  /** Stores what was staged. A stream purged meanwhile is made again. */
  apply (now = Date.now()): void {
    const memory = this.memory
    let last: Stream | null = null
    let target: Stream | null = null
    for (let i = 0; i < this.size; i++) {
      const stream = this.streams[i]!
      if (stream !== last) {
        last = stream
        target = memory.holds(stream) ? stream : memory.streamFor(stream.service, stream.labels, true)
      }
      memory.add(target!, this.ts[i]!, this.seq[i]!, this.messages[i]!, this.attrs[i]!, now)
    }
  }
}
