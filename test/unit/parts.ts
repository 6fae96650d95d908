import type { QueryPart } from '../../src/store/shard-messages.js'

/** A shard's part as a renderer hands it back: `pieces[i]` is entry i's bytes (rows in the query's order), joined by ','. */
export function renderedPart (rows: ReadonlyArray<{ ts: number, seq: number }>, pieces: readonly Buffer[]): QueryPart {
  const ends: number[] = []
  let offset = -1
  for (const p of pieces) ends.push(offset += p.length + 1)
  const body = Buffer.concat(pieces.flatMap((p, i) => i === 0 ? [p] : [Buffer.from(','), p]))
  return {
    ts: Float64Array.from(rows.map((r) => r.ts)),
    seq: Float64Array.from(rows.map((r) => r.seq)),
    body: new Uint8Array(body.buffer, body.byteOffset, body.length) as Uint8Array<ArrayBuffer>,
    ends: Uint32Array.from(ends),
    complete: true,
    scanned: rows.length
  }
}
