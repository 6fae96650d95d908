import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CODEC } from '../../src/store/codec/registry.js'
import { MetricSink } from '../../src/store/metric-sink.js'
import { OpenBlock } from '../../src/store/open-block.js'
import { SealedBlock } from '../../src/store/sealed-block.js'
import type { MetricSpec } from '../../src/store/shard-messages.js'
import { Stream } from '../../src/store/stream.js'

// MetricSink finds the series of a `by (…)` grouping without a parser from
// the grouped labels alone (GroupedLabels); its general path builds every
// label of every entry. Both must give the same series and counts for any
// streams, attributes (repeated names, level-like names, escapes), lines and
// grouping, on open and sealed blocks.

const NAMES = ['service', 'env', 'level', 'lvl', 'severity', 'detected_level', 'pod', 'a"b']
const VALUES = ['', 'error', 'WARN', 'info', '4', 'prod', 'x\ny', 'é', 'debug']
const WORDS = ['hello', 'error', 'warning', 'Info', 'debug', 'panic', 'ok', 'x\\y', '"q"', 'é']

const pairs = fc.array(fc.tuple(fc.constantFrom(...NAMES.slice(1)), fc.constantFrom(...VALUES)), { maxLength: 5 })
  .map((ps) => ps.flat())

const streamArb = fc.record({
  service: fc.constantFrom('api', 'web'),
  // Stream labels are distinct by name.
  labels: pairs.map((ps) => {
    const seen = new Set<string>()
    const out: string[] = []
    for (let k = 0; k < ps.length; k += 2) if (!seen.has(ps[k]!)) { seen.add(ps[k]!); out.push(ps[k]!, ps[k + 1]!) }
    return out
  })
})

const entryArb = fc.record({
  stream: fc.nat({ max: 3 }),
  ts: fc.integer({ min: 0, max: 9_999 }),
  line: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 }).map((ws) => ws.join(' ')),
  attrs: fc.option(pairs, { nil: null })
})

const groupingArb = fc.record({
  labels: fc.subarray(NAMES, { minLength: 0 }),
  stages: fc.array(fc.record({ kind: fc.constantFrom('drop' as const, 'keep' as const), names: fc.subarray(NAMES) }), { maxLength: 1 }),
  op: fc.constantFrom('count' as const, 'bytes' as const)
})

function run (spec: MetricSpec, general: boolean, streams: Stream[], views: Array<{ stream: number, view: ReturnType<OpenBlock['view']> }>): Array<[string, number[]]> {
  const sink = new MetricSink(spec, { general })
  for (const { stream, view } of views) for (let i = 0; i < view.n; i++) sink.add(streams[stream]!, view, i)
  return sink.finish().map((s): [string, number[]] => [JSON.stringify(s.labels), [...s.values]]).sort((a, b) => a[0].localeCompare(b[0]))
}

describe('MetricSink grouped by labels without a parser', () => {
  it('finds the same series and counts as the general path', () => {
    fc.assert(fc.property(fc.array(streamArb, { minLength: 4, maxLength: 4 }), fc.array(entryArb, { minLength: 1, maxLength: 60 }), groupingArb, fc.boolean(), (ss, entries, g, sealed) => {
      const streams = ss.map((s, k) => new Stream(`k${k}`, s.service, s.labels, DEFAULT_CODEC))
      const views = streams.map((_, k) => {
        const block = new OpenBlock()
        let seq = 0
        for (const e of [...entries].filter((e) => e.stream === k).sort((a, b) => a.ts - b.ts)) block.add(e.ts, seq++, e.line, e.attrs, 0)
        const view = block.view()
        return { stream: k, view: sealed && view.n > 0 ? SealedBlock.encode(view, DEFAULT_CODEC).view() : view }
      }).filter((v) => v.view.n > 0)
      const spec: MetricSpec = {
        op: g.op,
        first: 1000,
        stepUs: 1000,
        points: 10,
        rangeUs: 2000,
        groupBy: { mode: 'by', labels: g.labels },
        labelStages: g.stages,
        maxSeries: 1e6,
        maxSamples: 1e9
      }
      const general = run(spec, true, streams, views)
      expect(run(spec, false, streams, views)).toEqual(general)
      // The property looks at real work: something was counted.
      expect(general.reduce((n, [, values]) => n + values.reduce((a, b) => a + b, 0), 0)).toBeGreaterThan(0)
    }), { numRuns: 400 })
  })
})
