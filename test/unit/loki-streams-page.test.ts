import { describe, expect, it } from 'vitest'
import { lokiStreamsBody } from '../../src/shards/loki-streams-page.js'
import type { QueryPart } from '../../src/store/shard-messages.js'
import { renderedPart } from './parts.js'
import { applyLabelStages, formatLine, keptLabel } from '../../src/logql/stages.js'

// The front's half of a Loki log query: entries the shards rendered as
// values with an index into the part's label sets, merged in order and
// grouped into result streams.

interface Row { ts: number, seq: number, labels: Record<string, string>, line: string }

/** A shard's part, rendered as the 'loki-answer' renderer renders entries. */
function part (rows: Row[], descending = false): QueryPart {
  const sorted = [...rows].sort((a, b) => descending ? b.ts - a.ts || b.seq - a.seq : a.ts - b.ts || a.seq - b.seq)
  const labels: string[] = []
  const of = sorted.map((r) => {
    const text = JSON.stringify(r.labels)
    if (!labels.includes(text)) labels.push(text)
    return labels.indexOf(text)
  })
  return { ...renderedPart(sorted, sorted.map((r) => Buffer.from(JSON.stringify([`${r.ts}000`, r.line])))), streams: { labels, of: Uint32Array.from(of) } }
}

interface Answer { status: string, data: { resultType: string, result: Array<{ stream: Record<string, string>, values: string[][] }>, encodingFlags?: string[] } }
const answer = (chunks: Uint8Array[]): Answer => JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer

const api = { service: 'api' }
const db = { service: 'db', env: 'prod' }

describe('lokiStreamsBody', () => {
  it('groups merged entries into streams, each stream in the query’s order, streams by their first entry', () => {
    const a = part([{ ts: 5, seq: 1, labels: api, line: 'a5' }, { ts: 9, seq: 4, labels: api, line: 'a9' }], true)
    const b = part([{ ts: 7, seq: 2, labels: db, line: 'b7 "quoted"' }, { ts: 3, seq: 3, labels: db, line: 'b3' }], true)
    const out = answer(lokiStreamsBody([a, b], true, 100, Infinity, false))
    expect(out.status).toBe('success')
    expect(out.data.resultType).toBe('streams')
    expect(out.data.result).toEqual([
      { stream: api, values: [['9000', 'a9'], ['5000', 'a5']] },
      { stream: db, values: [['7000', 'b7 "quoted"'], ['3000', 'b3']] }
    ])
    expect(out.data.encodingFlags).toBeUndefined()
  })

  it('keeps each stream in order when one part interleaves streams and another part interleaves with it', () => {
    const a = part([{ ts: 1, seq: 1, labels: api, line: 'a1' }, { ts: 2, seq: 2, labels: db, line: 'd2' }, { ts: 3, seq: 3, labels: api, line: 'a3' }, { ts: 6, seq: 6, labels: api, line: 'a6' }])
    const b = part([{ ts: 4, seq: 4, labels: api, line: 'b4' }, { ts: 5, seq: 5, labels: db, line: 'e5' }])
    expect(answer(lokiStreamsBody([a, b], false, 100, Infinity, false)).data.result).toEqual([
      { stream: api, values: [['1000', 'a1'], ['3000', 'a3'], ['4000', 'b4'], ['6000', 'a6']] },
      { stream: db, values: [['2000', 'd2'], ['5000', 'e5']] }
    ])
  })

  it('keeps to the limit and to about maxBytes, and says categorize-labels when asked', () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ ts: i + 1, seq: i, labels: api, line: `line ${i}` }))
    expect(answer(lokiStreamsBody([part(rows)], false, 3, Infinity, false)).data.result[0]!.values.map((v) => v[1])).toEqual(['line 0', 'line 1', 'line 2'])
    const small = answer(lokiStreamsBody([part(rows)], false, 100, 100, true))
    expect(small.data.result[0]!.values.length).toBeGreaterThan(0)
    expect(small.data.result[0]!.values.length).toBeLessThan(10)
    expect(small.data.encodingFlags).toEqual(['categorize-labels'])
  })

  it('answers an empty result', () => {
    expect(answer(lokiStreamsBody([part([])], false, 10, Infinity, false)).data.result).toEqual([])
  })
})

describe('LogQL label stages', () => {
  const stages = [{ kind: 'drop' as const, names: ['a'] }, { kind: 'keep' as const, names: ['b', 'c'] }]
  it('drop then keep, in order', () => {
    expect(applyLabelStages({ a: '1', b: '2', c: '3', d: '4' }, stages)).toEqual({ b: '2', c: '3' })
    expect(keptLabel('a', stages)).toBe(false)
    expect(keptLabel('d', stages)).toBe(false)
    expect(keptLabel('c', stages)).toBe(true)
  })
  it('line_format fills {{.name}} from labels and fields, empty when absent', () => {
    expect(formatLine('{{.level}}: {{ .msg }} {{.nope}}!', { level: 'warn', msg: 'disk' })).toBe('warn: disk !')
  })
})
