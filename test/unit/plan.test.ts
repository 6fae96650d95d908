import { describe, expect, it } from 'vitest'
import { BadQueryError } from '../../src/core/errors.js'
import { compileSelection } from '../../src/logql/match.js'
import { parseLogql } from '../../src/logql/parse.js'
import type { LogQuery, MetricExpr } from '../../src/logql/ast.js'
import { entriesPlan, logsPagePlan, logsSelection, lokiStreamsPlan, rangePlan, type LogsRequest } from '../../src/shards/plan.js'
import type { QueryPart } from '../../src/store/shard-messages.js'
import { renderedPart } from './parts.js'

const request = (over: Partial<LogsRequest> = {}): LogsRequest => ({
  services: ['api'], start: 10, end: 20, descending: false, limit: 2, after: null, contains: null, attrs: [], regex: null, ...over
})

const logQuery = (text: string): LogQuery => {
  const q = parseLogql(text)
  if (q.kind !== 'log') throw new Error(`${text} is not a log query`)
  return q
}

const rangeExpr = (text: string): Extract<MetricExpr, { kind: 'range' }> => {
  const q = parseLogql(text)
  if (q.kind !== 'metric' || q.expr.kind !== 'range') throw new Error(`${text} is not a range aggregation`)
  return q.expr
}

/** A part of entries (ts, seq) whose bytes are the given texts. */
const partOf = (rows: Array<[number, number, string]>): QueryPart =>
  renderedPart(rows.map(([ts, seq]) => ({ ts, seq })), rows.map(([, , text]) => Buffer.from(text)))

describe('the query planner', () => {
  it('plans GET /logs for the shards of its services, rendered in the layout, and merges and pages on the front', () => {
    const plan = logsPagePlan(request({ services: ['api', 'web'], contains: 'x' }), 'ndjson', Infinity)
    expect(plan.shard).toMatchObject({ services: ['api', 'web'], start: 10, end: 20, limit: 2, contains: 'x', format: 'ndjson' })
    expect(plan.shard.select).toBeUndefined()
    const { chunks, next } = plan.front([partOf([[11, 1, '"a"'], [14, 3, '"c"']]), partOf([[12, 2, '"b"']])])
    expect(Buffer.concat(chunks).toString()).toMatch(/^"a"\n"b"\n\{"next":/)
    expect(next).not.toBeNull()
  })

  it('turns a GET /logs regex into a LogQL line filter, and refuses a bad one while planning', () => {
    expect(logsPagePlan(request({ regex: 'err(or)?' }), 'json', Infinity).shard.select).toEqual({ selector: [], lines: [{ op: '|~', values: ['err(or)?'] }], labels: [] })
    expect(() => logsPagePlan(request({ regex: 'a(' }), 'json', Infinity)).toThrow(BadQueryError)
  })

  it('sends a LogQL query naming one service to that service alone, and any other selector to every shard', () => {
    const range = { start: 1, end: 2, descending: true, limit: 5 }
    const one = lokiStreamsPlan(logQuery('{service="api"} |= "x" | json | drop a'), range, Infinity, false)
    expect(one.shard).toMatchObject({ services: ['api'], format: 'loki-answer', descending: true, limit: 5 })
    expect(one.shard.loki).toEqual({ parser: 'json', labelStages: [{ kind: 'drop', names: ['a'] }], lineFormat: undefined, categorize: false })
    expect(lokiStreamsPlan(logQuery('{service=~"a.*"}'), range, Infinity, false).shard.services).toBeNull()
    expect(() => lokiStreamsPlan(logQuery('{service="api"} |~ "a("'), range, Infinity, false)).toThrow(BadQueryError)
  })

  it('plans a range aggregation over the span its evaluation times look back on, with the limits on each shard and over their sum', () => {
    const grid = { first: 1_000_000_000, stepUs: 60_000_000, points: 3 }
    const limits = { maxSeries: 1, maxSamples: 100 }
    const plan = rangePlan(rangeExpr('count_over_time({service="api"}[5m])'), grid, { mode: 'by', labels: ['level'] }, limits)
    expect(plan.shard).toMatchObject({ services: ['api'], start: grid.first - 300_000_000 + 1, end: grid.first + 2 * grid.stepUs })
    expect(plan.shard.metric).toMatchObject({ op: 'count', points: 3, rangeUs: 300_000_000, groupBy: { mode: 'by', labels: ['level'] }, maxSeries: 1 })
    const series = (labels: string[]): QueryPart => ({ ...partOf([]), series: [{ labels, values: new Float64Array(3) }] })
    // The same label set from two shards is one series; two different ones are over the limit of one.
    expect(plan.front([series(['level', 'info']), series(['level', 'info'])])).toHaveLength(2)
    expect(() => plan.front([series(['level', 'info']), series(['level', 'warn'])])).toThrow(/MAX_QUERY_SERIES/)
  })

  it('plans a tail replay from a cursor, in arrival order', () => {
    const select = logsSelection(request())
    const plan = entriesPlan(select, { start: 10, end: 20, descending: false, limit: 10 }, 'ndjson', { ts: 12, seq: 4 })
    expect(plan.shard).toMatchObject({ services: ['api'], after: { ts: 12, seq: 4 }, format: 'ndjson' })
    const { entries, more } = plan.front([partOf([[13, 5, 'x'], [15, 6, 'y']])])
    expect(entries.map((e) => e.seq)).toEqual([5, 6])
    expect(more).toBe(false)
  })

  it('expresses GET /logs filters as a selection that matches exactly what they name', () => {
    const select = logsSelection(request({ services: ['a.b', 'c'], contains: 'boom', attrs: [{ key: 'level', value: 'error' }], regex: 'bo+m' }))
    const compiled = compileSelection(select)
    const labels = (service: string, level: string) => (name: string): string => ({ service, level } as Record<string, string>)[name] ?? ''
    expect(compiled.stream(labels('a.b', 'error'))).toBe(true)
    expect(compiled.stream(labels('axb', 'error'))).toBe(false)
    expect(compiled.entry!('a boom here', labels('c', 'error'))).toBe(true)
    expect(compiled.entry!('a boom here', labels('c', 'info'))).toBe(false)
    expect(compiled.entry!('a bam here', labels('c', 'error'))).toBe(false)
    expect(() => logsSelection(request({ regex: '(' }))).toThrow(BadQueryError)
  })
})
