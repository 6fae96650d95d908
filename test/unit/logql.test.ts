import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { evaluate, type Fetch } from '../../src/logql/evaluate.js'
import { compileSelection, labelPredicate, lineFields, linePredicate } from '../../src/logql/match.js'
import { parseLogql } from '../../src/logql/parse.js'
import { durationUs } from '../../src/core/timestamp.js'

describe('LogQL parsing', () => {
  it('reads a selector, chained line filters with or, and label filter trees', () => {
    expect(parseLogql('{service="api", env!~"dev|test"} |= "a" or "b" != "c" |~ `x\\.y` | level="error" | region=~"eu.*" or x!="1", y="2"')).toEqual({
      kind: 'log',
      selection: {
        selector: [{ name: 'service', op: '=', value: 'api' }, { name: 'env', op: '!~', value: 'dev|test' }],
        lines: [{ op: '|=', values: ['a', 'b'] }, { op: '!=', values: ['c'] }, { op: '|~', values: ['x\\.y'] }],
        labels: [
          { kind: 'match', matcher: { name: 'level', op: '=', value: 'error' } },
          {
            kind: 'or',
            left: { kind: 'match', matcher: { name: 'region', op: '=~', value: 'eu.*' } },
            right: { kind: 'and', left: { kind: 'match', matcher: { name: 'x', op: '!=', value: '1' } }, right: { kind: 'match', matcher: { name: 'y', op: '=', value: '2' } } }
          }
        ]
      },
      labelStages: []
    })
  })

  it('reads Go string escapes and drop / keep', () => {
    const q = parseLogql('{service="a\\"b\\n"} | drop __error__, x | keep service')
    expect(q.kind === 'log' && q.selection.selector[0]!.value).toBe('a"b\n')
    expect(q.kind === 'log' && q.labelStages).toEqual([{ kind: 'drop', names: ['__error__', 'x'] }, { kind: 'keep', names: ['service'] }])
  })

  it('reads arithmetic on numbers and vector()', () => {
    expect(parseLogql('vector(1)+vector(1)')).toEqual({
      kind: 'metric',
      expr: { kind: 'binary', op: '+', left: { kind: 'number', value: 1, vector: true }, right: { kind: 'number', value: 1, vector: true } }
    })
    expect(parseLogql('-2 * 3')).toEqual({ kind: 'metric', expr: { kind: 'binary', op: '*', left: { kind: 'number', value: -2, vector: false }, right: { kind: 'number', value: 3, vector: false } } })
  })

  it('names what it does not run, and where a syntax error is', () => {
    expect(() => parseLogql('absent_over_time({a="b"}[1m])')).toThrow(/not supported/)
    expect(() => parseLogql('sum_over_time({a="b"} | unwrap x [1m]) by (a)')).toThrow(/takes no by or without of its own/)
    expect(parseLogql('stdvar_over_time({a="b"} | unwrap duration(x) [1m]) by (a)')).toMatchObject({ expr: { op: 'stdvar_over_time', unwrap: { name: 'x', conversion: 'duration' }, grouping: { mode: 'by', labels: ['a'] } } })
    expect(() => parseLogql('{a="b"} | regexp "(?P<x>.)"')).toThrow(/parser stages other than/)
    expect(() => parseLogql('{a="b"} | json | logfmt')).toThrow(/one parser stage/)
    expect(() => parseLogql('{a="b"} | logfmt --strict')).toThrow(/logfmt with flags/)
    expect(() => parseLogql('{a="b"} | line_format "{{ .x | upper }}"')).toThrow(/field references such as/)
    expect(parseLogql('{a="b"} | line_format "{{.x}} and {{ .y }}"')).toMatchObject({ lineFormat: '{{.x}} and {{ .y }}' })
    expect(() => parseLogql('{a="b"} |~ ip("1.2.3.4")')).toThrow(/ip\(\) line filters take \|= or !=/)
    expect(() => parseLogql('vector(1) + bool vector(2)')).toThrow(/bool is for comparisons/)
    expect(() => parseLogql('vector(1) > on (a) vector(2)')).toThrow(/on\(\), ignoring\(\)/)
    expect(() => parseLogql('vector(1) or 2')).toThrow(/or takes a vector on both sides/)
    // PromQL's precedence: or < and < comparisons < + < *.
    expect(parseLogql('vector(1) or vector(2) and vector(3) > 1 + 2 * 3')).toMatchObject({
      expr: { op: 'or', right: { op: 'and', right: { op: '>', right: { op: '+', right: { op: '*' } } } } }
    })
    expect(() => parseLogql('{a="b"} | drop x | y="1"')).toThrow(/after drop or keep/)
    expect(() => parseLogql('{a="b"')).toThrow(/syntax error at character/)
    expect(() => parseLogql('  ')).toThrow(/empty/)
    expect(() => parseLogql('{a=~".*"}')).toThrow(/does not match the empty value/)
  })

  it('answers every input with a query or a 400, never another error (random and mutated queries)', () => {
    const seeds = ['{service="api"} |= "x" | level="error"', 'vector(1)+vector(1)', 'sum by (a) (count_over_time({a="b"}[5m]))', '{a=~"x.*", b!="y"} !~ "z" | keep a']
    const mutated = fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat({ max: 5 }), fc.string({ maxLength: 4 }))
      .map(([s, at, cut, insert]) => { const i = at % (s.length + 1); return s.slice(0, i) + insert + s.slice(i + cut) })
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 80 }), mutated), (text) => {
      try {
        parseLogql(text)
      } catch (err) {
        expect((err as { statusCode?: number }).statusCode).toBe(400)
      }
    }), { numRuns: 2000 })
  })
})

describe('LogQL matching', () => {
  it('anchors label regexes and not line regexes', () => {
    expect(labelPredicate({ name: 'x', op: '=~', value: 'ap' })('api')).toBe(false)
    expect(labelPredicate({ name: 'x', op: '=~', value: 'ap.' })('api')).toBe(true)
    expect(labelPredicate({ name: 'x', op: '!~', value: 'ap.' })('api')).toBe(false)
    expect(linePredicate({ op: '|~', values: ['ap'] })('GET /api')).toBe(true)
  })

  it('passes a positive filter with or when any value matches, a negative one when none does', () => {
    expect(linePredicate({ op: '|=', values: ['a', 'b'] })('xbx')).toBe(true)
    expect(linePredicate({ op: '!=', values: ['a', 'b'] })('xbx')).toBe(false)
    expect(linePredicate({ op: '!=', values: ['a', 'b'] })('xyz')).toBe(true)
    expect(linePredicate({ op: '!~', values: ['^x', 'z$'] })('yyy')).toBe(true)
  })

  it('looks labels up for streams and entries, absent ones as empty', () => {
    const s = compileSelection({
      selector: [{ name: 'service', op: '=', value: 'api' }],
      lines: [{ op: '|=', values: ['err'] }],
      labels: [{ kind: 'match', matcher: { name: 'level', op: '!=', value: 'debug' } }]
    })
    const labels = (m: Record<string, string>) => (name: string): string => m[name] ?? ''
    expect(s.stream(labels({ service: 'api' }))).toBe(true)
    expect(s.stream(labels({ service: 'db' }))).toBe(false)
    expect(s.entry!('an err', labels({}))).toBe(true)
    expect(s.entry!('an err', labels({ level: 'debug' }))).toBe(false)
    expect(s.entry!('fine', labels({}))).toBe(false)
  })

  it('parses lines with | json (nested keys joined by _, arrays left out) and | logfmt for label filters', () => {
    expect(lineFields('json', '{"status":500,"req":{"path":"/a","tags":["x"]},"ok":false,"x-y":"z"}')).toEqual({ status: '500', req_path: '/a', ok: 'false', x_y: 'z' })
    expect(lineFields('json', 'not json')).toEqual({ __error__: 'JSONParserErr' })
    expect(lineFields('logfmt', 'level=error msg="a b" flag')).toEqual({ level: 'error', msg: 'a b', flag: 'true' })
    const q = parseLogql('{app="x"} | json | status=~"5.." | req_path="/a"')
    if (q.kind !== 'log') throw new Error('not a log query')
    expect(q.selection.parser).toBe('json')
    const entry = compileSelection(q.selection).entry!
    const none = (): string => ''
    expect(entry('{"status":503,"req":{"path":"/a"}}', none)).toBe(true)
    expect(entry('{"status":200,"req":{"path":"/a"}}', none)).toBe(false)
    // A label the entry has already wins over the line's field of the same name.
    expect(entry('{"status":503,"req":{"path":"/a"}}', (name) => name === 'status' ? '200' : '')).toBe(false)
  })

  it('refuses a pattern RE2 cannot compile with a 400', () => {
    expect(() => linePredicate({ op: '|~', values: ['(?<=x)y'] })).toThrow(/not valid RE2 syntax/)
  })
})

describe('LogQL metric evaluation', () => {
  // Three series over three steps, as shards would count them (0: no entry).
  const counted = [
    { labels: ['level', 'error', 'service', 'api'], values: Float64Array.from([2, 0, 4]) },
    { labels: ['level', 'info', 'service', 'api'], values: Float64Array.from([1, 3, 0]) },
    { labels: ['level', 'error', 'service', 'db'], values: Float64Array.from([5, 0, 0]) }
  ]
  const fetch: Fetch = async () => counted
  const grid = { first: 0, stepUs: 1_000_000, points: 3 }
  const run = async (text: string): Promise<Record<string, number[]>> => {
    const q = parseLogql(text)
    if (q.kind !== 'metric') throw new Error('not a metric query')
    const v = await evaluate(q.expr, grid, fetch)
    if (v.kind === 'scalar') return { scalar: Array.from(v.values) }
    return Object.fromEntries(v.series.map((s) => [JSON.stringify(s.metric), Array.from(s.values)]))
  }

  it('aggregates by and without, ignoring steps without a sample', async () => {
    expect(await run('sum by (level) (count_over_time({service=~".+"}[1m]))')).toEqual({ '{"level":"error"}': [7, NaN, 4], '{"level":"info"}': [1, 3, NaN] })
    expect(await run('count without (level) (count_over_time({service=~".+"}[1m]))')).toEqual({ '{"service":"api"}': [2, 1, 1], '{"service":"db"}': [1, NaN, NaN] })
    expect(await run('avg(count_over_time({service=~".+"}[1m]))')).toEqual({ '{}': [8 / 3, 3, 4] })
    expect(await run('min(count_over_time({service=~".+"}[1m]))')).toEqual({ '{}': [1, 3, 4] })
    expect(await run('max by (service) (count_over_time({service=~".+"}[1m]))')).toEqual({ '{"service":"api"}': [2, 3, 4], '{"service":"db"}': [5, NaN, NaN] })
  })

  it('keeps the k largest series at each step, with their labels', async () => {
    expect(await run('topk(1, count_over_time({service=~".+"}[1m]))')).toEqual({
      '{"level":"error","service":"api"}': [NaN, NaN, 4],
      '{"level":"info","service":"api"}': [NaN, 3, NaN],
      '{"level":"error","service":"db"}': [5, NaN, NaN]
    })
  })

  it('topk picks what a full sort picks for any k, ties to the earlier series (insertion, sort and keep-all paths)', async () => {
    // 40 series over 5 steps with many ties and gaps; k from 1 to past the series count.
    const many = Array.from({ length: 40 }, (_, i) => ({ labels: ['id', String(i)], values: Float64Array.from({ length: 5 }, (_, j) => (i * 7 + j * 3) % 6) }))
    const manyGrid = { first: 0, stepUs: 1_000_000, points: 5 }
    for (const k of [1, 2, 3, 16, 17, 39, 40, 41]) {
      const q = parseLogql(`topk(${k}, count_over_time({service=~".+"}[1m]))`)
      if (q.kind !== 'metric') throw new Error('not a metric query')
      const v = await evaluate(q.expr, manyGrid, async () => many)
      if (v.kind !== 'vector') throw new Error('not a vector')
      const got = new Map(v.series.map((s) => [s.metric.id!, Array.from(s.values)]))
      for (let j = 0; j < 5; j++) {
        const expected = many.map((s, i) => [s.values[j]!, i] as const).filter(([c]) => c !== 0).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => String(i)).sort()
        const chosen = [...got].filter(([, values]) => !Number.isNaN(values[j]!)).map(([id]) => id).sort()
        expect(chosen, `k=${k} step ${j}`).toEqual(expected)
      }
    }
  })

  it('turns counts into per-second rates over the range, and does arithmetic with scalars and matching vectors', async () => {
    expect(await run('sum(rate({service=~".+"}[2s]))')).toEqual({ '{}': [4, 1.5, 2] })
    expect(await run('sum(count_over_time({service=~".+"}[1m])) / sum(count_over_time({service=~".+"}[1m]))')).toEqual({ '{}': [1, 1, 1] })
    // PromQL precedence: ^ first (from the right), then * / %, then + - (from the left).
    expect(await run('2 ^ 3 - 1')).toEqual({ scalar: [7, 7, 7] })
    expect(await run('1 + 2 * 3 ^ 2 ^ 0.5 - (4 - 1) - 1')).toEqual({ scalar: [1 + 2 * 3 ** (2 ** 0.5) - 3 - 1, 1 + 2 * 3 ** (2 ** 0.5) - 3 - 1, 1 + 2 * 3 ** (2 ** 0.5) - 3 - 1] })
    expect(await run('8 / 4 / 2')).toEqual({ scalar: [1, 1, 1] })
  })

  it('reads durations', () => {
    expect(durationUs('1h30m')).toBe(5400e6)
    expect(durationUs('250ms')).toBe(250e3)
    expect(durationUs('5x')).toBeNaN()
  })
})
