import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MalformedBodyError } from '../../src/core/errors.js'
import { lokiSpans, readLokiStream } from '../../src/ingest/formats/loki-push.js'
import { decodeResourceLogs, otlpSpans, resourceRecords } from '../../src/ingest/formats/otlp-logs.js'
import { ExportLogsServiceRequest, PushRequest } from '../../src/ingest/formats/protos.js'

// The promise that lets the shards decode a push body's streams: whatever
// the front's check lets through decodes on the shards without an error, so
// a body is stored whole or not at all. Checked on valid bodies with random
// bytes changed, cut short or spliced.

const NOW = 1_800_000_000_000_000
const nanos = (us: number): string => `${us}000`

const loki = Buffer.from(PushRequest.encode(PushRequest.fromObject({
  streams: [
    { labels: '{app="a", pod="p-1"}', entries: [{ timestamp: { seconds: 1_800_000_000, nanos: 5 }, line: 'one', structuredMetadata: [{ name: 'k', value: 'v' }] }, { timestamp: { seconds: 1_800_000_001 }, line: 'two' }] },
    { labels: '{job="b"}', entries: [{ timestamp: { seconds: 1_800_000_002 }, line: 'three' }] }
  ]
})).finish())

const otlp = Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject({
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, { key: 'host', value: { kvlistValue: { values: [{ key: 'n', value: { intValue: 3 } }] } } }] },
      scopeLogs: [{ scope: { name: 's' }, logRecords: [{ timeUnixNano: nanos(NOW), severityNumber: 9, body: { arrayValue: { values: [{ stringValue: 'x' }, { doubleValue: 1.5 }] } }, attributes: [{ key: 'a', value: { boolValue: true } }], traceId: Buffer.alloc(16, 1) }] }]
    },
    { resource: {}, scopeLogs: [{ logRecords: [{ observedTimeUnixNano: nanos(NOW), body: { bytesValue: Buffer.from('b') } }, {}] }] }
  ]
})).finish())

/** A valid body with some bytes changed, then perhaps cut short or doubled. */
const mutated = (valid: Buffer): fc.Arbitrary<Buffer> => fc.tuple(
  fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  fc.oneof(fc.constant(valid.length), fc.nat(valid.length)),
  fc.boolean()
).map(([edits, cut, twice]) => {
  const b = Buffer.from(valid)
  for (const [at, byte] of edits) b[at] = byte
  const out = b.subarray(0, cut)
  return twice ? Buffer.concat([out, out]) : out
})

/** Runs `split`; a MalformedBodyError is the front's 400, anything else a bug. */
function checked<T> (split: () => T): T | null {
  try {
    return split()
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedBodyError)
    return null
  }
}

describe('a push body the front lets through decodes on the shards', () => {
  it('Loki: every stream lokiSpans() finds reads back, with as many entries as it counted', () => {
    let passed = 0
    fc.assert(fc.property(mutated(loki), (body) => {
      const spans = checked(() => lokiSpans(body))
      if (spans === null) return
      passed++
      for (const span of spans) {
        const stream = readLokiStream(body, span.start, span.end)
        expect(stream.labels).toEqual(span.labels)
        expect(stream.entries).toHaveLength(span.entries)
      }
    }), { numRuns: 3000 })
    // Some of the changed bodies still decode: the property is not vacuous.
    expect(passed).toBeGreaterThan(100)
  })

  it('OTLP: every resource otlpSpans() finds decodes and maps, with as many records as it counted', () => {
    let passed = 0
    fc.assert(fc.property(mutated(otlp), (body) => {
      const spans = checked(() => otlpSpans(body))
      if (spans === null) return
      passed++
      for (const span of spans) {
        const visited = resourceRecords(decodeResourceLogs(body, span.start, span.end), span.ordinal, NOW, NOW - 3600e6, NOW + 600e6, () => {})
        expect(visited).toBe(span.entries)
      }
    }), { numRuns: 3000 })
    expect(passed).toBeGreaterThan(100)
  })
})
