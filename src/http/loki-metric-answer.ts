import { setImmediate as nextTurn } from 'node:timers/promises'
import { BadQueryError, QueryTimeoutError } from '../core/errors.js'
import type { Grid, Series, Value } from '../logql/evaluate.js'

// A metric query's answer (Loki's `matrix`, `vector` or `scalar`) written
// as byte chunks, with a turn of the event loop between chunks, instead of
// one JSON.stringify of the whole result: 300 series × 11,000 points made a
// 69 MB string and held /healthz for 3 s. The chunks are counted as they
// are made, so an answer over MAX_PAGE_BYTES is a 400 before any byte is
// sent, and the front's time for the query ends at QUERY_TIMEOUT.

/** Bytes of one chunk; a turn of the event loop follows each. */
const CHUNK_BYTES = 64 * 1024

export interface AnswerBudget {
  /** Bytes the answer may have (MAX_PAGE_BYTES). */
  maxBytes: number
  /** Epoch ms by which the answer must be made (the query's start + QUERY_TIMEOUT). */
  deadline: number
}

/** Prometheus prints sample values as Go does: NaN, +Inf, -Inf, or the shortest number. */
const sampleText = (v: number): string => Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v)
const seconds = (us: number): number => Math.floor(us / 1000) / 1000

class ChunkWriter {
  readonly chunks: Buffer[] = []
  private parts: string[] = []
  private pending = 0
  private total = 0

  constructor (private readonly budget: AnswerBudget) {}

  /** Adds text; after each full chunk, gives the event loop a turn and checks the budget. */
  async write (text: string): Promise<void> {
    this.parts.push(text)
    this.pending += text.length
    if (this.pending >= CHUNK_BYTES) {
      this.flush()
      await nextTurn()
      if (Date.now() > this.budget.deadline) throw new QueryTimeoutError('the metric query did not finish within QUERY_TIMEOUT; raise step, narrow the time range or the selector')
    }
  }

  flush (): void {
    if (this.parts.length === 0) return
    const chunk = Buffer.from(this.parts.join(''), 'utf8')
    this.parts = []
    this.pending = 0
    this.total += chunk.length
    if (this.total > this.budget.maxBytes) {
      throw new BadQueryError(`the answer is larger than MAX_PAGE_BYTES (${this.budget.maxBytes} bytes); raise step, narrow the time range or the selector, or aggregate with sum by (...)`)
    }
    this.chunks.push(chunk)
  }
}

/** One series of a matrix, or null when it has no sample. */
function matrixSeries (s: Series, at: (j: number) => number): string | null {
  const values: string[] = []
  for (let j = 0; j < s.values.length; j++) {
    const v = s.values[j]!
    if (!Number.isNaN(v)) values.push(`[${at(j)},${JSON.stringify(sampleText(v))}]`)
  }
  return values.length === 0 ? null : `{"metric":${JSON.stringify(s.metric)},"values":[${values.join(',')}]}`
}

/** The answer's body chunks: `{"status":"success","data":{"resultType":…,"result":…}}`. */
export async function metricAnswerChunks (value: Value, grid: Grid, kind: 'vector' | 'matrix', budget: AnswerBudget): Promise<Buffer[]> {
  const at = (j: number): number => seconds(grid.first + j * grid.stepUs)
  const out = new ChunkWriter(budget)
  if (value.kind === 'scalar') {
    await out.write(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [at(grid.points - 1), sampleText(value.values[grid.points - 1]!)] } }))
  } else {
    await out.write(`{"status":"success","data":{"resultType":"${kind}","result":[`)
    let first = true
    for (const s of value.series) {
      const text = kind === 'vector'
        ? (Number.isNaN(s.values[0]!) ? null : JSON.stringify({ metric: s.metric, value: [at(0), sampleText(s.values[0]!)] }))
        : matrixSeries(s, at)
      if (text === null) continue
      await out.write(first ? text : `,${text}`)
      first = false
    }
    await out.write(']}}')
  }
  out.flush()
  return out.chunks
}
