// Where the push protocols' protobuf is best decoded, measured (issue 9):
//   front  the front thread unsnappies and decodes the whole request, makes
//          records, builds each shard's batch and posts it (a structured
//          clone, read back on the shard): what the server does today;
//   split  the front unsnappies, walks only the request's outer fields with
//          protobufjs's Reader to route each Loki stream / OTLP resource by its
//          service, and transfers each shard a request of its own streams; the
//          shard decodes that and makes records.
// Both end in the same IngestBatch, whose storing is left out (the same in
// both). The bodies are those of bench scenarios (f) and (g): the entries of
// (b), 1000 per request over 50 services. Figures are CPU µs per entry on one
// thread, each step timed alone; the "front" and "shards" columns say which
// thread would pay it.
//
// Run: npm run build && node dist/bench/push-placement.js [requests]
import { deserialize, serialize } from 'node:v8'
import protobuf from 'protobufjs'
import { unsnappy } from '../src/http/snappy.js'
import { decodeLokiProto, lokiRecords, serviceOf } from '../src/ingest/formats/loki-push.js'
import { parseLabelString } from '../src/ingest/formats/label-string.js'
import { decodeOtlpProto, otlpRecords } from '../src/ingest/formats/otlp-logs.js'
import { ExportLogsServiceRequest } from '../src/ingest/formats/protos.js'
import type { LogRecord } from '../src/ingest/record.js'
import { BatchBuilder } from '../src/shards/batch-builder.js'
import { shardOf } from '../src/core/hash.js'
import { nowUs } from './data.js'
import { batchTemplates } from './feeds.js'
import { lokiFeed, otlpFeed, type BodyFeed } from './push-feeds.js'

const REQUESTS = Number(process.argv[2] ?? 400)
const SHARDS = 2
const SERVICE_LABELS = ['service', 'service_name', 'app', 'job', 'container']
const Resource = ExportLogsServiceRequest.root.lookupType('opentelemetry.proto.resource.v1.Resource')

type Step = (x: any) => any
interface Plan { name: string, front: Array<[string, Step]>, shard: Array<[string, Step]> }

/** Records → one batch per shard, as the router makes them. */
function batches (records: readonly LogRecord[]): ReturnType<BatchBuilder['build']>[] {
  const builders = Array.from({ length: SHARDS }, () => new BatchBuilder())
  records.forEach((r, i) => builders[shardOf(r.service, SHARDS)]!.add(r, i))
  return builders.map((b) => b.build())
}

/**
 * The outer fields of a request: each top-level field `field` (a Loki stream,
 * an OTLP ResourceLogs) copied whole, tag included, into the request of the
 * shard that `route` names for it.
 */
function split (body: Uint8Array, field: number, route: (inner: Uint8Array) => number): Uint8Array[] {
  const parts: Array<Array<[number, number]>> = Array.from({ length: SHARDS }, () => [])
  const r = protobuf.Reader.create(body)
  while (r.pos < r.len) {
    const start = r.pos
    const tag = r.uint32()
    if (tag >>> 3 !== field || (tag & 7) !== 2) {
      r.skipType(tag & 7)
      continue
    }
    const len = r.uint32()
    const inner = body.subarray(r.pos, r.pos + len)
    r.skip(len)
    parts[route(inner)]!.push([start, r.pos])
  }
  return parts.map((ranges) => {
    const out = new Uint8Array(ranges.reduce((n, [a, b]) => n + b - a, 0))
    let at = 0
    for (const [a, b] of ranges) {
      out.set(body.subarray(a, b), at)
      at += b - a
    }
    return out
  })
}

/** The first string field `field` of a message, or ''. */
function stringField (msg: Uint8Array, field: number): string {
  const r = protobuf.Reader.create(msg)
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (tag >>> 3 === field && (tag & 7) === 2) return r.string()
    r.skipType(tag & 7)
  }
  return ''
}

/** The first length-delimited field `field` of a message, or null. */
function bytesField (msg: Uint8Array, field: number): Uint8Array | null {
  const r = protobuf.Reader.create(msg)
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (tag >>> 3 === field && (tag & 7) === 2) {
      const len = r.uint32()
      return msg.subarray(r.pos, r.pos + len)
    }
    r.skipType(tag & 7)
  }
  return null
}

const lokiRoute = (stream: Uint8Array): number => {
  const labels = parseLabelString(stringField(stream, 1))
  return shardOf(typeof labels === 'string' ? 'unknown_service' : serviceOf(labels, SERVICE_LABELS), SHARDS)
}

const otlpRoute = (resourceLogs: Uint8Array): number => {
  const resource = bytesField(resourceLogs, 1)
  const attrs = resource === null ? [] : (Resource.decode(resource) as unknown as { attributes: Array<{ key: string, value?: { stringValue?: string } }> }).attributes
  const name = attrs.find((a) => a.key === 'service.name')?.value?.stringValue ?? 'unknown_service'
  return shardOf(name, SHARDS)
}

const window = (): [number, number] => [nowUs() - 3_600_000_000, nowUs() + 600_000_000]
const lokiToRecords = (streams: ReturnType<typeof decodeLokiProto>): LogRecord[] => lokiRecords(streams, SERVICE_LABELS, ...window()).records
const otlpToRecords = (req: unknown): LogRecord[] => otlpRecords(req, nowUs(), ...window()).records
/** What posting a batch costs on both ends: V8's serializer is what postMessage's structured clone uses. */
const clone = (b: ReturnType<typeof batches>): Buffer[] => b.map((x) => serialize(x))
const unclone = (b: Buffer[]): unknown[] => b.map((x) => deserialize(x))
const eachShard = (f: Step): Step => (parts: Uint8Array[]) => parts.map((p) => f(Buffer.from(p.buffer, p.byteOffset, p.length)))

const PLANS: Array<{ protocol: string, feed: () => BodyFeed, plans: Plan[] }> = [
  {
    protocol: 'Loki push (protobuf + snappy)',
    feed: () => lokiFeed(batchTemplates(48, 1000, 2)),
    plans: [
      {
        name: 'front decodes',
        front: [['unsnappy', (b) => unsnappy(b, 1 << 24)], ['decode', decodeLokiProto], ['records', lokiToRecords], ['batches', batches], ['post', clone]],
        shard: [['receive', unclone]]
      },
      {
        name: 'shards decode',
        front: [['unsnappy', (b) => unsnappy(b, 1 << 24)], ['split', (b) => split(b, 1, lokiRoute)]],
        shard: [['decode', eachShard(decodeLokiProto)], ['records', (parts) => parts.map(lokiToRecords)], ['batches', (parts) => parts.map(batches)]]
      }
    ]
  },
  {
    protocol: 'OTLP/HTTP (protobuf)',
    feed: () => otlpFeed(batchTemplates(48, 1000, 2)),
    plans: [
      {
        name: 'front decodes',
        front: [['decode', decodeOtlpProto], ['records', otlpToRecords], ['batches', batches], ['post', clone]],
        shard: [['receive', unclone]]
      },
      {
        name: 'shards decode',
        front: [['split', (b) => split(b, 1, otlpRoute)]],
        shard: [['decode', eachShard(decodeOtlpProto)], ['records', (parts) => parts.map(otlpToRecords)], ['batches', (parts) => parts.map(batches)]]
      }
    ]
  }
]

function run (steps: Array<[string, Step]>, input: unknown, times: Map<string, number>): unknown {
  let x = input
  for (const [name, step] of steps) {
    const t = performance.now()
    x = step(x)
    times.set(name, (times.get(name) ?? 0) + performance.now() - t)
  }
  return x
}

const us = (ms: number, entries: number): string => (ms * 1000 / entries).toFixed(2)

console.log(`push decoding placement: ${REQUESTS} requests of 1000 entries, ${SHARDS} shards, one thread, CPU µs per entry`)
for (const { protocol, feed, plans } of PLANS) {
  const f = feed()
  const setup = f.request().setupRequest as (r: object) => { body: Buffer }
  const bodies = Array.from({ length: 48 }, () => Buffer.from(setup({}).body))
  console.log(`\n${protocol}`)
  for (const plan of [...plans, ...plans]) {
    const front = new Map<string, number>()
    const shard = new Map<string, number>()
    // One warm-up pass, then the measured one.
    for (const measured of [false, true]) {
      front.clear()
      shard.clear()
      for (let i = 0; i < (measured ? REQUESTS : REQUESTS / 4); i++) run(plan.shard, run(plan.front, bodies[i % bodies.length], front), shard)
    }
    const entries = REQUESTS * f.entriesPerBody
    const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)
    const detail = (m: Map<string, number>): string => [...m].map(([k, v]) => `${k} ${us(v, entries)}`).join(', ')
    console.log(`  ${plan.name.padEnd(14)} front ${us(sum(front), entries).padStart(5)}   shards ${us(sum(shard), entries).padStart(5)}   total ${us(sum(front) + sum(shard), entries).padStart(5)}   (front: ${detail(front)}; shards: ${detail(shard)})`)
  }
}
