import { mergeRuns, type Run } from '../merge.js'
import type { After, IngestBatch, QueryPart, ServiceStats, ShardQuery } from '../protocol.js'
import { SortedLog } from './sorted-log.js'

// Everything one shard owns: a SortedLog per service. Plain code with no
// thread or timer in it, so unit tests drive it directly and pass `now`.

/** Scans one SortedLog between two positions, in either direction, skipping non-matching messages. */
class LogScan implements Run {
  ts = 0
  seq = 0
  msg = ''
  private block: number
  private offset: number

  constructor (
    private readonly log: SortedLog,
    readonly serviceIdx: number,
    start: { block: number, offset: number },
    private readonly bound: number,
    private readonly descending: boolean,
    private readonly contains: string | null
  ) {
    this.block = start.block
    this.offset = start.offset
  }

  /** Loads the entry at the current position if it is in range and matches, else moves on. */
  seek (): boolean {
    const { blocks } = this.log
    for (;;) {
      const b = blocks[this.block]
      if (b === undefined) return false
      const ts = b.ts[this.offset]!
      if (this.descending ? ts < this.bound : ts > this.bound) return false
      const msg = b.msg[this.offset]!
      if (this.contains === null || msg.includes(this.contains)) {
        this.ts = ts
        this.seq = b.seq[this.offset]!
        this.msg = msg
        return true
      }
      this.step()
    }
  }

  private step (): void {
    if (this.descending) {
      if (--this.offset < 0) {
        this.block--
        const b = this.log.blocks[this.block]
        this.offset = b === undefined ? 0 : b.ts.length - 1
      }
    } else if (++this.offset >= this.log.blocks[this.block]!.ts.length) {
      this.block++
      this.offset = 0
    }
  }

  advance (): boolean {
    this.step()
    return this.seek()
  }
}

export class ShardStore {
  readonly logs = new Map<string, SortedLog>()
  entries = 0

  ingest (batch: IngestBatch): number {
    const { services, serviceIdx, ts, seq, messages } = batch
    const targets = services.map((name) => {
      let log = this.logs.get(name)
      if (log === undefined) {
        log = new SortedLog()
        this.logs.set(name, log)
      }
      return log
    })
    const n = ts.length
    for (let i = 0; i < n; i++) targets[serviceIdx[i]!]!.insert(ts[i]!, seq[i]!, messages[i]!)
    this.entries += n
    return n
  }

  query (q: ShardQuery): QueryPart {
    const names = q.services ?? [...this.logs.keys()]
    const runs: LogScan[] = []
    const low: After = q.after !== null && !q.descending && q.after.ts >= q.start ? q.after : { ts: q.start, seq: -Infinity }
    const high: After = q.after !== null && q.descending && q.after.ts <= q.end ? q.after : { ts: q.end, seq: Infinity }
    for (let i = 0; i < names.length; i++) {
      const log = this.logs.get(names[i]!)
      if (log === undefined || log.size === 0) continue
      const pos = q.descending ? log.positionBefore(high.ts, high.seq) : log.positionAfter(low.ts, low.seq)
      const scan = new LogScan(log, i, pos, q.descending ? q.start : q.end, q.descending, q.contains)
      if (scan.seek()) runs.push(scan)
    }

    const ts: number[] = []
    const seq: number[] = []
    const idx: number[] = []
    const messages: string[] = []
    mergeRuns(runs, q.descending, q.limit, (run) => {
      ts.push(run.ts)
      seq.push(run.seq)
      idx.push(run.serviceIdx)
      messages.push(run.msg)
    })
    return {
      services: names,
      serviceIdx: Uint32Array.from(idx),
      ts: Float64Array.from(ts),
      seq: Float64Array.from(seq),
      messages
    }
  }

  services (): ServiceStats[] {
    const out: ServiceStats[] = []
    for (const [service, log] of this.logs) {
      if (log.size > 0) out.push({ service, count: log.size, oldest: log.oldest, newest: log.newest })
    }
    return out
  }

  /** Drops every entry older than `cutoff` (epoch µs) and forgets services left empty. */
  purge (cutoff: number): number {
    let dropped = 0
    for (const [service, log] of this.logs) {
      dropped += log.purge(cutoff)
      if (log.size === 0) this.logs.delete(service)
    }
    this.entries -= dropped
    return dropped
  }
}
