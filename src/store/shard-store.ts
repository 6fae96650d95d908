import { mergeRuns, type Run } from '../merge.js'
import { checkLine } from '../ingest/entry.js'
import { MAX_REJECTED_LISTED, type After, type IngestBatch, type LineBatch, type QueryPart, type Rejected, type ServiceStats, type ShardQuery, type ShardReply } from '../protocol.js'
import { EntryWriter } from './entry-writer.js'
import { SortedLog } from './sorted-log.js'

// Everything one shard owns: a SortedLog per service. Plain code with no
// thread or timer in it, so unit tests drive it directly and pass `now`.

/** Estimated bytes an entry costs beyond its message text: ts and seq doubles, array slots, string header. */
export const ENTRY_OVERHEAD_BYTES = 56

/** A query looked at more entries, or ran longer, than it may. */
export class QueryBudgetError extends Error {
  constructor (readonly code: string, message: string) {
    super(message)
  }
}

/** Shared by every scan of one query: how many entries may still be examined, and until when. */
class Budget {
  private checks = 0
  constructor (private left: number, private readonly deadline: number) {}

  spend (): void {
    if (--this.left < 0) {
      throw new QueryBudgetError('LOGAGG_ERR_QUERY_TOO_EXPENSIVE', 'the query examined more entries than QUERY_MAX_SCAN allows; narrow the time range, name services, or drop contains')
    }
    if ((++this.checks & 1023) === 0 && Date.now() > this.deadline) {
      throw new QueryBudgetError('LOGAGG_ERR_QUERY_TIMEOUT', 'the query ran past QUERY_TIMEOUT; narrow the time range, name services, or drop contains')
    }
  }
}

/** Scans one SortedLog between two positions, in either direction, skipping non-matching messages. */
class LogScan implements Run {
  ts = 0
  seq = 0
  msg = ''
  private block: number
  private offset: number

  constructor (
    private readonly log: SortedLog,
    /** The service name as a JSON string literal, for rendering. */
    readonly serviceJson: string,
    start: { block: number, offset: number },
    private readonly bound: number,
    private readonly descending: boolean,
    private readonly contains: string | null,
    private readonly budget: Budget
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
      this.budget.spend()
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
  /** Total length of every stored message. */
  chars = 0

  /** Estimated bytes held: ENTRY_OVERHEAD_BYTES plus the message length, per entry. */
  get bytes (): number {
    return this.entries * ENTRY_OVERHEAD_BYTES + this.chars
  }

  private logFor (service: string): SortedLog {
    let log = this.logs.get(service)
    if (log === undefined) this.logs.set(service, log = new SortedLog())
    return log
  }

  private stored (log: SortedLog, ts: number, seq: number, message: string): void {
    log.insert(ts, seq, message)
    this.entries++
    this.chars += message.length
  }

  ingest (batch: IngestBatch): number {
    const { serviceIdx, ts, seq, messages } = batch
    const targets = batch.services.map((name) => this.logFor(name))
    for (let i = 0; i < ts.length; i++) this.stored(targets[serviceIdx[i]!]!, ts[i]!, seq[i]!, messages[i]!)
    return ts.length
  }

  /**
   * Parses, validates and stores NDJSON lines (see LineBatch). Lines whose
   * service belongs to another shard (by `owns`) are handed back, not stored.
   */
  ingestLines (batch: LineBatch, owns: (service: string) => boolean): Extract<ShardReply, { type: 'stored-lines' }> {
    const { text, starts, ends } = batch
    const window = { oldest: batch.oldest, newest: batch.newest }
    const rejected: Rejected[] = []
    const misrouted: number[] = []
    let rejectedCount = 0
    let count = 0
    let log: SortedLog | undefined
    let logService = ''
    for (let i = 0; i < starts.length; i++) {
      const entry = checkLine(text.slice(starts[i], ends[i]), window)
      if (typeof entry === 'string') {
        if (rejectedCount++ < MAX_REJECTED_LISTED) rejected.push({ index: batch.index[i]!, error: entry })
        continue
      }
      if (!owns(entry.service)) {
        misrouted.push(batch.index[i]!)
        continue
      }
      if (entry.service !== logService) {
        logService = entry.service
        log = this.logFor(logService)
      }
      this.stored(log!, entry.ts, batch.seq[i]!, entry.message)
      count++
    }
    return { type: 'stored-lines', count, rejected, rejectedCount, misrouted, usage: { entries: this.entries, bytes: this.bytes } }
  }

  query (q: ShardQuery): QueryPart {
    const names = q.services ?? this.logs.keys()
    const budget = new Budget(q.maxScan ?? Infinity, q.deadline ?? Infinity)
    const runs: LogScan[] = []
    const low: After = q.after !== null && !q.descending && q.after.ts >= q.start ? q.after : { ts: q.start, seq: -Infinity }
    const high: After = q.after !== null && q.descending && q.after.ts <= q.end ? q.after : { ts: q.end, seq: Infinity }
    for (const name of names) {
      const log = this.logs.get(name)
      if (log === undefined || log.size === 0) continue
      const pos = q.descending ? log.positionBefore(high.ts, high.seq) : log.positionAfter(low.ts, low.seq)
      const scan = new LogScan(log, JSON.stringify(name), pos, q.descending ? q.start : q.end, q.descending, q.contains, budget)
      if (scan.seek()) runs.push(scan)
    }

    const ts: number[] = []
    const seq: number[] = []
    const writer = new EntryWriter()
    mergeRuns(runs, q.descending, q.limit, (run) => {
      ts.push(run.ts)
      seq.push(run.seq)
      writer.add(run.serviceJson, run.ts, run.msg)
    })
    return { ts: Float64Array.from(ts), seq: Float64Array.from(seq), ...writer.finish() }
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
      const chars = log.chars
      dropped += log.purge(cutoff)
      this.chars -= chars - log.chars
      if (log.size === 0) this.logs.delete(service)
    }
    this.entries -= dropped
    return dropped
  }
}
