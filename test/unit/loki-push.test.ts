import fc from 'fast-check'
import protobuf from 'protobufjs'
import SnappyJS from 'snappyjs'
import { describe, expect, it } from 'vitest'
import { decodeLokiJson, decodeLokiProto, lokiRecords, lokiSpans, serviceOf } from '../../src/ingest/formats/loki-push.js'
import { routeSpans } from '../../src/ingest/spans.js'
import { putStreams, type EntrySink } from '../../src/ingest/shard-ingest.js'
import { shardOf } from '../../src/core/hash.js'
import { PushRequest, int64, nanosToMicros } from '../../src/ingest/formats/protos.js'
import { snappyLength, unsnappy } from '../../src/http/snappy.js'

const NOW = 1_800_000_000_000_000
/** The Long class protobufjs decodes 64-bit fields into. */
const Long = protobuf.util.Long as unknown as { fromString: (text: string, unsigned?: boolean) => { toString: () => string } }
const SERVICE_LABELS = ['service', 'service_name', 'app', 'job', 'container']
const map = (streams: Parameters<typeof lokiRecords>[0]): ReturnType<typeof lokiRecords> => lokiRecords(streams, SERVICE_LABELS, NOW - 3600e6, NOW + 600e6)

describe('Loki push decoding', () => {
  it('reads the JSON body: labels, ns timestamps truncated to µs, structured metadata', () => {
    const body = Buffer.from(JSON.stringify({ streams: [{ stream: { app: 'a', env: 'p' }, values: [[`${NOW}999`, 'one'], [`${NOW + 1}000`, 'two', { k: 'v' }]] }] }))
    expect(decodeLokiJson(body)).toEqual([{ labels: ['app', 'a', 'env', 'p'], entries: [{ ts: NOW, line: 'one', metadata: null }, { ts: NOW + 1, line: 'two', metadata: ['k', 'v'] }] }])
  })

  it('refuses JSON of the wrong shape, naming the place', () => {
    const cases: Array<[string, RegExp]> = [
      ['[]', /expected a JSON object/],
      ['{"streams": {}}', /streams must be an array/],
      ['{"streams": [1]}', /streams\[0\] must be an object/],
      ['{"streams": [{"stream": {"a": 1}, "values": []}]}', /streams\[0\]\.stream\.a must be a string/],
      ['{"streams": [{"values": 3}]}', /streams\[0\]\.values must be an array/],
      ['{"streams": [{"values": [["1"]]}]}', /values\[0\] must be/],
      ['{"streams": [{"values": [[1, "x"]]}]}', /values\[0\]\[0\] must be the timestamp in nanoseconds as a string/],
      ['{"streams": [{"values": [["1", 2]]}]}', /values\[0\]\[1\] must be the log line/],
      ['{"streams": [{"values": [["1", "x", {"k": 1}]]}]}', /values\[0\]\[2\]\.k must be a string/],
      ['{"streams": ', /does not parse/]
    ]
    for (const [text, message] of cases) expect(() => decodeLokiJson(Buffer.from(text)), text).toThrow(message)
  })

  it('reads logproto.PushRequest: the label string, Timestamp seconds + nanos, structuredMetadata', () => {
    const bytes = PushRequest.encode(PushRequest.fromObject({
      streams: [{ labels: '{job="w", level="info"}', entries: [{ timestamp: { seconds: 1_800_000_000, nanos: 123_456_789 }, line: 'l', structuredMetadata: [{ name: 'a', value: 'b' }] }] }]
    })).finish()
    expect(decodeLokiProto(Buffer.from(bytes))).toEqual([{ labels: ['job', 'w', 'level', 'info'], entries: [{ ts: 1_800_000_000_123_456, line: 'l', metadata: ['a', 'b'] }] }])
    expect(() => decodeLokiProto(Buffer.from(bytes.subarray(0, bytes.length - 2)))).toThrow(/does not decode as logproto.PushRequest/)
    const badLabels = PushRequest.encode(PushRequest.fromObject({ streams: [{ labels: 'job=w' }] })).finish()
    expect(() => decodeLokiProto(Buffer.from(badLabels))).toThrow(/are not a label set/)
  })

  it('reads a stream whose entries come before its labels, skips unknown fields, and refuses one that runs past its length', () => {
    const { Writer } = protobuf
    const entry = Writer.create()
    entry.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 0).int64(1_800_000_001).uint32((2 << 3) | 0).int32(5000).ldelim()
    entry.uint32((2 << 3) | 2).string('late labels')
    entry.uint32((9 << 3) | 0).uint32(7) // unknown varint field
    const stream = Writer.create()
    stream.uint32((2 << 3) | 2).bytes(entry.finish())
    stream.uint32((3 << 3) | 0).uint64(42) // hash, unused
    stream.uint32((1 << 3) | 2).string('{app="x"}')
    const body = Writer.create().uint32((1 << 3) | 2).bytes(stream.finish()).uint32((2 << 3) | 2).string('format').finish()
    expect(decodeLokiProto(Buffer.from(body))).toEqual([{ labels: ['app', 'x'], entries: [{ ts: 1_800_000_001_000_005, line: 'late labels', metadata: null }] }])
    // A stream that claims more bytes than the body has.
    const cut = Buffer.from(body.subarray(0, body.length - 9))
    expect(() => decodeLokiProto(cut)).toThrow(/does not decode as logproto.PushRequest/)
  })

  it('snappy: the header length is read before anything is inflated', () => {
    const raw = Buffer.from('hello hello hello hello')
    const packed = Buffer.from(SnappyJS.compress(raw))
    expect(snappyLength(packed)).toBe(raw.length)
    expect(unsnappy(packed, 1024)).toEqual(raw)
    expect(() => unsnappy(packed, 10)).toThrow(/larger than the 10 byte limit/)
    expect(snappyLength(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]))).toBe(2 ** 30)
    expect(() => unsnappy(Buffer.from([]), 10)).toThrow(/no block header/)
    expect(() => unsnappy(Buffer.from([10, 1, 2, 3, 4, 5, 6, 7]), 1024)).toThrow(/is not valid snappy/)
    expect(() => unsnappy(Buffer.from([5, 0xff, 0xff]), 10)).toThrow(/not valid snappy/)
  })

  it('int64 and nanosToMicros read Longs, strings and numbers', () => {
    expect(nanosToMicros('1800000000123456789')).toBe(1_800_000_000_123_456)
    expect(nanosToMicros('999')).toBe(0)
    expect(nanosToMicros('-5')).toBeNaN()
    expect(nanosToMicros('12a')).toBeNaN()
    expect(nanosToMicros(1_500_000)).toBe(1500)
    expect(int64('42')).toBe(42)
    expect(int64({ toString: () => '-7' })).toBe(-7)
    expect(int64(1.5)).toBeNaN()
  })

  it('reads protobufjs Longs from their halves, exactly, as their decimal text would read', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 9_000_000_000_000_000_000n }), fc.boolean(), (ns, unsigned) => {
      const long = Long.fromString(ns.toString(), unsigned)
      expect(nanosToMicros(long)).toBe(Number(ns / 1000n))
      expect(nanosToMicros(long)).toBe(nanosToMicros(ns.toString()))
    }))
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n }), (v) => {
      expect(int64(Long.fromString(v.toString()))).toBe(Number(v))
    }))
    // Past 2^53 the text is read instead, as before.
    expect(int64(Long.fromString('9007199254740993'))).toBe(Number('9007199254740993'))
    expect(int64(Long.fromString('18446744073709551615', true))).toBe(Number('18446744073709551615'))
  })
})

describe('Loki streams to records', () => {
  it('takes the service from the first SERVICE_LABELS label present, else unknown_service', () => {
    expect(serviceOf(['job', 'j', 'app', 'a'], SERVICE_LABELS)).toBe('a')
    expect(serviceOf(['app', '', 'job', 'j'], SERVICE_LABELS)).toBe('j')
    expect(serviceOf(['env', 'x'], SERVICE_LABELS)).toBe('unknown_service')
    expect(serviceOf(['service_name', 's', 'service', 'S'], SERVICE_LABELS)).toBe('S')
  })

  it('keeps every label but service, sorted; metadata becomes attributes', () => {
    const { records, problemCount } = map([{ labels: ['service', 's', 'zone', 'z', 'app', 'a'], entries: [{ ts: NOW, line: 'x', metadata: ['k', 'v'] }] }])
    expect(problemCount).toBe(0)
    expect(records).toEqual([{ service: 's', ts: NOW, message: 'x', labels: ['app', 'a', 'zone', 'z'], attributes: ['k', 'v'] }])
    expect(map([{ labels: ['service', 's'], entries: [{ ts: NOW, line: 'x', metadata: null }] }]).records[0]!.labels).toBeNull()
  })

  it('lists the entries that fail validation and keeps the others', () => {
    const { records, problems, problemCount } = map([
      { labels: ['app', 'a'], entries: [{ ts: NOW, line: 'ok', metadata: null }, { ts: 1, line: 'old', metadata: null }, { ts: NaN, line: 'nan', metadata: null }] },
      { labels: ['app', 'b', 'bad-name', 'x'], entries: [{ ts: NOW, line: 'bad label', metadata: null }] }
    ])
    expect(records.map((r) => r.message)).toEqual(['ok'])
    expect(problemCount).toBe(3)
    expect(problems[0]).toMatch(/^entry for stream \{app="a"\} at 1000 ns: timestamp is older than the retention window$/)
    expect(problems[1]).toMatch(/an invalid time: timestamp is not a number/)
    expect(problems[2]).toMatch(/label name "bad-name" is not valid/)
  })
})

describe('Loki push decoded on the shards', () => {
  const ts = (us: number): { seconds: number, nanos: number } => ({ seconds: Math.floor(us / 1e6), nanos: (us % 1e6) * 1000 })
  const body = Buffer.from(PushRequest.encode(PushRequest.fromObject({
    streams: [
      { labels: '{app="one", pod="p"}', entries: [{ timestamp: ts(NOW), line: 'a' }, { timestamp: ts(1), line: 'old' }] },
      { labels: '{app="two"}', entries: [] },
      { labels: '{service="three"}', entries: [{ timestamp: ts(NOW + 1), line: 'b', structuredMetadata: [{ name: 'k', value: 'v' }] }] }
    ]
  })).finish())

  it('routes each stream with entries to the shard of its service, numbering entries in request order', () => {
    const spans = lokiSpans(body)
    expect(spans.map((s) => [s.labels, s.entries])).toEqual([[['app', 'one', 'pod', 'p'], 2], [['app', 'two'], 0], [['service', 'three'], 1]])
    const { perShard, total } = routeSpans(spans.map((span, ordinal) => ({ ...span, service: serviceOf(span.labels, SERVICE_LABELS), ordinal })), 4)
    expect(total).toBe(3)
    expect(perShard[shardOf('one', 4)]!.first).toContain(0)
    expect(perShard[shardOf('three', 4)]!.first).toContain(2)
    expect(perShard.reduce((n, s) => n + s.starts.length, 0)).toBe(2) // the stream without entries goes nowhere
  })

  it('a shard puts the valid entries with seq + request index and names the refused ones; a stream it does not own is a bug', () => {
    const put: unknown[] = []
    const sink: EntrySink<string> = {
      streamFor: (service, labels) => service === 'three' ? null : `${service}${JSON.stringify(labels)}`,
      put: (stream, t, seq, message, attrs) => { put.push([stream, t, seq, message, attrs]) }
    }
    const spans = lokiSpans(body).filter((s) => s.entries > 0)
    const batch = {
      format: 'loki' as const,
      bytes: new Uint8Array(body),
      starts: Uint32Array.from(spans.map((s) => s.start)),
      ends: Uint32Array.from(spans.map((s) => s.end)),
      first: Uint32Array.from([0, 2]),
      ordinals: Uint32Array.from([0, 2]),
      arrival: NOW,
      seq: 100,
      oldest: NOW - 3600e6,
      newest: NOW + 600e6,
      serviceLabels: SERVICE_LABELS
    }
    const out = putStreams(batch, () => true, sink)
    // Every label but one named service stays a stream label (app too), as on the front.
    expect(put).toEqual([['one["app","one","pod","p"]', NOW, 100, 'a', null]])
    expect(out.count).toBe(1)
    expect(out.rejectedCount).toBe(1)
    expect(out.rejected[0]!.index).toBe(1)
    expect(out.rejected[0]!.error).toMatch(/^entry for stream \{app="one", pod="p"\} at 1000 ns: /)
    expect(out.full).toEqual([2]) // three: the store holds its share of MAX_SERVICES
    expect(() => putStreams(batch, (service) => service !== 'one', sink)).toThrow(/sent to the wrong shard/)
  })
})
