import { pairsLabel } from './entry-labels.js'
import type { LogSelection } from '../logql/ast.js'
import { compileSelection, type CompiledSelection } from '../logql/match.js'
import type { QueryPart, TailBatch, TailFormat, TailLimits } from './shard-messages.js'
import type { Pairs } from './block.js'
import type { Stream } from './stream.js'
import { EntryView, renderTailEntry } from './render/tail.js'

// Live tails on a shard: each new entry is matched here, where it is stored,
// against the tails that want it, and rendered here too, in the tail's own
// format (render/tail.ts, by the writers queries use), so the front thread
// only merges the shards' bytes and writes them out at its next poll.
// Which tails a stream's entries can reach is worked out once per stream (and
// again after a tail comes or goes), grouped by format, so an entry of a
// stream no tail selects costs one map lookup, a shard without tails does
// nothing at all, and an entry is rendered at most once per format however
// many tails keep it: they all hold the same bytes (50 SSE tails on one
// service cost one rendering and 50 references per entry, not 50 copies).
//
// Buffers are bounded, counted in the bytes clients will be sent: past
// `limits.entries` entries or `limits.bytes` bytes waiting for one tail, or
// `maxBytes` rendered bytes held for all tails of the shard, an entry is
// dropped for that tail, counted, and the first few named in the next poll's
// answer (Loki's dropped_entries). A tail the front says is stalled (its
// client is not reading) is emptied at each poll into that count instead of
// being shipped.

/** Dropped entries named per tail per poll; the rest are only counted. */
const NAMED_DROPS = 100

export type { TailFormat }

/** One entry rendered in one format, shared by every tail of that format that keeps it. */
interface Piece { readonly body: Buffer, refs: number }

class Tail {
  readonly selection: CompiledSelection
  private pieces: Piece[] = []
  private ts: number[] = []
  private seq: number[] = []
  /** Each kept entry's stream labels (shared per stream), to name it if it is discarded. */
  private labels: string[][] = []
  bytes = 0
  dropped = 0
  droppedNamed: Array<{ labels: string[], ts: number }> = []

  constructor (readonly id: number, select: LogSelection, readonly limits: TailLimits, readonly format: TailFormat) {
    this.selection = compileSelection(select)
  }

  get waiting (): number { return this.ts.length }

  /** Whether the entry passes this tail's line and label filters (its stream already matched). */
  wants (stream: Stream, message: string, attrs: Pairs | null): boolean {
    if (this.selection.entry === null) return true
    const label = (name: string): string => pairsLabel(stream, attrs, name)
    return this.selection.entry(message, label)
  }

  drop (labels: string[], ts: number): void {
    this.dropped++
    if (this.droppedNamed.length < NAMED_DROPS) this.droppedNamed.push({ labels, ts })
  }

  keep (piece: Piece, labels: string[], ts: number, seq: number): void {
    piece.refs++
    this.pieces.push(piece)
    this.labels.push(labels)
    this.ts.push(ts)
    this.seq.push(seq)
    this.bytes += piece.body.length
  }

  /** Empties the tail; `release` gets each piece let go. With `asDropped`, what waited is counted as dropped. */
  private empty (release: (p: Piece) => void, asDropped: boolean): void {
    for (let i = 0; i < this.pieces.length; i++) {
      release(this.pieces[i]!)
      if (asDropped) this.drop(this.labels[i]!, this.ts[i]!)
    }
    this.pieces = []
    this.labels = []
    this.ts = []
    this.seq = []
    this.bytes = 0
  }

  /** What waits, as a query part (entries in arrival order, comma-separated as in a query part), and empties it. */
  take (release: (p: Piece) => void): QueryPart {
    const n = this.pieces.length
    const ends = new Uint32Array(n)
    const body = Buffer.allocUnsafe(n === 0 ? 0 : this.bytes + n - 1)
    let at = 0
    for (let i = 0; i < n; i++) {
      if (i > 0) body[at++] = 44
      at += this.pieces[i]!.body.copy(body, at)
      ends[i] = at
    }
    const part: QueryPart = { ts: Float64Array.from(this.ts), seq: Float64Array.from(this.seq), body, ends, complete: true, scanned: 0 }
    this.empty(release, false)
    return part
  }

  /** Counts what waits as dropped (its client is not reading) and empties it. */
  discard (release: (p: Piece) => void): void { this.empty(release, true) }

  /** Lets go of what waits (the tail ended). */
  clear (release: (p: Piece) => void): void { this.empty(release, false) }
}

interface Reach { generation: number, groups: Array<{ format: TailFormat, tails: Tail[] }>, labels: string[] }

export class TailHub {
  private readonly tails = new Map<number, Tail>()
  /** Bumped whenever a tail comes or goes, so each stream's list is worked out again. */
  private generation = 0
  private readonly reach = new WeakMap<Stream, Reach>()
  /** Rendered bytes held for all tails now (each shared rendering counted once), and the most ever held. */
  held = 0
  peak = 0
  /** Entries rendered (once per format, however many tails keep them). */
  renders = 0
  /** The entry being offered, as the renderers read it: set once per entry, however many formats render it. */
  private readonly view = new EntryView()
  private readonly release = (p: Piece): void => { if (--p.refs === 0) this.held -= p.body.length }

  /** `maxBytes`: rendered bytes this shard may hold for all its tails together (TAIL_SHARD_BYTES). */
  constructor (private readonly maxBytes = Infinity) {}

  get active (): boolean { return this.tails.size > 0 }

  subscribe (id: number, select: LogSelection, limits: TailLimits, format: TailFormat): void {
    this.tails.get(id)?.clear(this.release)
    this.tails.set(id, new Tail(id, select, limits, format))
    this.generation++
  }

  unsubscribe (id: number): void {
    const t = this.tails.get(id)
    if (t === undefined) return
    t.clear(this.release)
    this.tails.delete(id)
    this.generation++
  }

  private reachOf (stream: Stream): Reach {
    let r = this.reach.get(stream)
    if (r === undefined || r.generation !== this.generation) {
      const groups: Reach['groups'] = []
      for (const t of this.tails.values()) {
        if (!t.selection.stream((name) => stream.labelValue(name))) continue
        const g = groups.find((x) => x.format === t.format)
        if (g === undefined) groups.push({ format: t.format, tails: [t] })
        else g.tails.push(t)
      }
      r = { generation: this.generation, groups, labels: ['service', stream.name, ...stream.labels] }
      this.reach.set(stream, r)
    }
    return r
  }

  /** A new entry of `stream`, just stored. */
  offer (stream: Stream, ts: number, seq: number, message: string, attrs: Pairs | null): void {
    const r = this.reachOf(stream)
    let viewSet = false
    for (const { format, tails } of r.groups) {
      let piece: Piece | null = null
      for (const t of tails) {
        if (!t.wants(stream, message, attrs)) continue
        if (t.waiting >= t.limits.entries) {
          t.drop(r.labels, ts)
          continue
        }
        if (piece === null) {
          if (!viewSet) {
            this.view.set(ts, seq, message, attrs)
            viewSet = true
          }
          piece = { body: renderTailEntry(format, stream, this.view), refs: 0 }
          this.renders++
        }
        if (t.bytes + piece.body.length > t.limits.bytes || (piece.refs === 0 && this.held + piece.body.length > this.maxBytes)) {
          t.drop(r.labels, ts)
          continue
        }
        if (piece.refs === 0) {
          this.held += piece.body.length
          if (this.held > this.peak) this.peak = this.held
        }
        t.keep(piece, r.labels, ts, seq)
      }
    }
  }

  /**
   * What each of `ids` got since the last poll (emptied), and the ids this shard does not know (it restarted).
   * Tails in `stalled` (their clients are not reading) have what they got counted as dropped instead.
   */
  poll (ids: readonly number[], stalled: readonly number[] = []): { batches: TailBatch[], unknown: number[] } {
    const batches: TailBatch[] = []
    const unknown: number[] = []
    const skip = new Set(stalled)
    for (const id of ids) {
      const t = this.tails.get(id)
      if (t === undefined) {
        unknown.push(id)
        continue
      }
      if (skip.has(id)) t.discard(this.release)
      if (t.waiting === 0 && t.dropped === 0) continue
      batches.push({ id, part: t.take(this.release), dropped: t.dropped, droppedNamed: t.droppedNamed })
      t.dropped = 0
      t.droppedNamed = []
    }
    return { batches, unknown }
  }
}
