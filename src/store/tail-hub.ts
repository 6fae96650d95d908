import type { LogSelection } from '../logql/ast.js'
import { compileSelection, type CompiledSelection } from '../logql/match.js'
import type { TailBatch, TailEntry } from '../protocol.js'
import type { Pairs } from './block.js'
import type { Stream } from './stream.js'

// Live tails on a shard: each new entry is matched here, where it is stored,
// against the tails that want it, and kept for the front thread's next poll.
// Which tails a stream's entries can reach is worked out once per stream (and
// again after a tail comes or goes), so an entry of a stream no tail selects
// costs one map lookup, and a shard without tails does nothing at all.
//
// Buffers are bounded: past `limit` entries waiting for one tail, entries are
// dropped for that tail only, counted, and the first few named in the next
// poll's answer (Loki's dropped_entries).

/** Dropped entries named per tail per poll; the rest are only counted. */
const NAMED_DROPS = 100

class Tail {
  readonly selection: CompiledSelection
  entries: TailEntry[] = []
  dropped = 0
  droppedNamed: Array<{ labels: string[], ts: number }> = []

  constructor (readonly id: number, select: LogSelection, readonly limit: number) {
    this.selection = compileSelection(select)
  }

  offer (stream: Stream, labels: string[], ts: number, seq: number, message: string, attrs: Pairs | null): void {
    if (this.selection.entry !== null) {
      const label = (name: string): string => {
        if (name === 'service') return stream.service
        const own = stream.label(name)
        if (own !== undefined) return own
        if (attrs !== null) for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === name) return attrs[i + 1]!
        return ''
      }
      if (!this.selection.entry(message, label)) return
    }
    if (this.entries.length >= this.limit) {
      this.dropped++
      if (this.droppedNamed.length < NAMED_DROPS) this.droppedNamed.push({ labels, ts })
      return
    }
    this.entries.push({ ts, seq, labels, attributes: attrs, line: message })
  }
}

export class TailHub {
  private readonly tails = new Map<number, Tail>()
  /** Bumped whenever a tail comes or goes, so each stream's list is worked out again. */
  private generation = 0
  private readonly reach = new WeakMap<Stream, { generation: number, tails: Tail[], labels: string[] }>()

  get active (): boolean { return this.tails.size > 0 }

  subscribe (id: number, select: LogSelection, limit: number): void {
    this.tails.set(id, new Tail(id, select, limit))
    this.generation++
  }

  unsubscribe (id: number): void {
    if (this.tails.delete(id)) this.generation++
  }

  /** A new entry of `stream`, just stored. */
  offer (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null): void {
    let r = this.reach.get(stream)
    if (r === undefined || r.generation !== this.generation) {
      const label = (name: string): string => name === 'service' ? stream.service : stream.label(name) ?? ''
      const tails = [...this.tails.values()].filter((t) => t.selection.stream(label))
      r = { generation: this.generation, tails, labels: ['service', stream.service, ...stream.labels] }
      this.reach.set(stream, r)
    }
    for (const t of r.tails) t.offer(stream, r.labels, ts, seq, message, attrs)
  }

  /** What each of `ids` got since the last poll (emptied), and the ids this shard does not know (it restarted). */
  poll (ids: readonly number[]): { batches: TailBatch[], unknown: number[] } {
    const batches: TailBatch[] = []
    const unknown: number[] = []
    for (const id of ids) {
      const t = this.tails.get(id)
      if (t === undefined) {
        unknown.push(id)
        continue
      }
      if (t.entries.length === 0 && t.dropped === 0) continue
      batches.push({ id, entries: t.entries, dropped: t.dropped, droppedNamed: t.droppedNamed })
      t.entries = []
      t.dropped = 0
      t.droppedNamed = []
    }
    return { batches, unknown }
  }
}
