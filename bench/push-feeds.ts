import type autocannon from 'autocannon'
import snappy from 'snappyjs'
import { ExportLogsServiceRequest, PushRequest } from '../src/ingest/formats/protos.js'
import { nowUs } from './data.js'
import type { TemplateEntry } from './feeds.js'

// Request bodies of the push-protocol scenarios: the same entries as the NDJSON
// batches of (b) (bench/feeds.ts batchTemplates), encoded as a Loki
// PushRequest (protobuf, then snappy) or an OTLP ExportLogsServiceRequest
// (protobuf), one stream / resource per service, the entries of each in the
// batch's order. The protobuf is built once with protobufjs around placeholder
// timestamps whose byte offsets are then found; each send writes the current
// times over them, in place, so every entry is "now" as in (b).
//   - OTLP's timeUnixNano is a fixed64: 8 bytes, written as they are.
//   - Loki's Timestamp holds two varints. seconds is 5 bytes for any date
//     from 1978 to 3058; nanos is written as a 5-byte varint, padded with
//     continuation bytes when the value is shorter (valid protobuf; Go's and
//     protobufjs's readers accept it). Then the whole body is snappy-compressed,
//     as a shipper does on every push: that costs the load generator about
//     as much as the server's own unsnappy, on the same cores.

/** A feed of pre-built bodies for one endpoint, each freshly stamped when sent. */
export interface BodyFeed {
  readonly entriesPerBody: number
  request: () => autocannon.Request
}

abstract class StampedProtoFeed implements BodyFeed {
  private i = 0
  readonly entriesPerBody: number

  constructor (protected readonly bodies: readonly StampedProto[], private readonly path: string, private readonly headers: Record<string, string>) {
    this.entriesPerBody = bodies[0]!.offsets.length
  }

  protected abstract stamp (body: StampedProto, baseUs: number): Uint8Array

  request (): autocannon.Request {
    return {
      method: 'POST',
      path: this.path,
      headers: this.headers,
      setupRequest: (req) => {
        const body = this.stamp(this.bodies[this.i++ % this.bodies.length]!, nowUs())
        // A view, not a copy: as in (b), a body is rewritten in place when its turn comes again.
        req.body = Buffer.from(body.buffer, body.byteOffset, body.length)
        return req
      }
    }
  }
}

/** A protobuf body and, per entry, where its timestamp is and how far before "now" it lies. */
interface StampedProto {
  buf: Uint8Array
  at: Uint32Array
  offsets: Float64Array
}

/** Groups a batch by service, keeping each service's entries in batch order; entry k of the result is batch entry order[k]. */
function byService (entries: readonly TemplateEntry[]): { groups: Map<string, number[]>, order: number[] } {
  const groups = new Map<string, number[]>()
  entries.forEach((e, i) => {
    let list = groups.get(e.service)
    if (list === undefined) groups.set(e.service, list = [])
    list.push(i)
  })
  return { groups, order: [...groups.values()].flat() }
}

// ---- Loki -------------------------------------------------------------------

/** A placeholder seconds value of 5 varint bytes, unlike anything else in a body. */
const PLACEHOLDER_S = 30_000_000_000
/** Placeholder nanos are NANOS_BASE + the entry's index: always 5 varint bytes. */
const NANOS_BASE = 2 ** 28

function varint5 (buf: Uint8Array, at: number, v: number): void {
  for (let j = 0; j < 4; j++) {
    buf[at + j] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  buf[at + 4] = v
}

function readVarint5 (buf: Uint8Array, at: number): number {
  let v = 0
  for (let j = 4; j >= 0; j--) v = v * 128 + (buf[at + j]! & 0x7f)
  return v
}

function lokiBody (entries: readonly TemplateEntry[]): StampedProto {
  const { groups, order } = byService(entries)
  let k = 0
  const streams = [...groups].map(([service, list]) => ({
    labels: `{service="${service}"}`,
    entries: list.map((i) => ({ timestamp: { seconds: PLACEHOLDER_S, nanos: NANOS_BASE + k++ }, line: entries[i]!.message }))
  }))
  const buf = PushRequest.encode(PushRequest.fromObject({ streams })).finish()
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length)
  // Each Timestamp is 08 <5-byte seconds> 10 <5-byte nanos>.
  const mark = new Uint8Array(6)
  mark[0] = 0x08
  varint5(mark, 1, PLACEHOLDER_S)
  const at = new Uint32Array(entries.length)
  let found = 0
  for (let p = view.indexOf(mark); p >= 0; p = view.indexOf(mark, p + 12)) {
    if (buf[p + 6] !== 0x10) throw new Error('bench: unexpected Loki timestamp layout')
    const n = readVarint5(buf, p + 7) - NANOS_BASE
    at[n] = p + 1
    found++
  }
  if (found !== entries.length) throw new Error(`bench: found ${found} of ${entries.length} Loki timestamps`)
  return { buf, at, offsets: Float64Array.from(order, (i) => entries[i]!.offsetUs) }
}

class LokiFeed extends StampedProtoFeed {
  protected stamp (body: StampedProto, baseUs: number): Uint8Array {
    const { buf, at, offsets } = body
    for (let k = 0; k < offsets.length; k++) {
      const us = Math.round(baseUs + offsets[k]!)
      const s = Math.floor(us / 1e6)
      varint5(buf, at[k]!, s)
      varint5(buf, at[k]! + 6, (us - s * 1e6) * 1000)
    }
    return snappy.compress(buf)
  }
}

/** Loki push bodies (protobuf + snappy) of the given batches. */
export function lokiFeed (batches: readonly TemplateEntry[][]): BodyFeed {
  return new LokiFeed(batches.map(lokiBody), '/loki/api/v1/push', { 'content-type': 'application/x-protobuf' })
}

// ---- OTLP -------------------------------------------------------------------

/** Placeholder timeUnixNano: this high word, the entry's index as the low word. */
const PLACEHOLDER_HI = 0x001abcde

function otlpBody (entries: readonly TemplateEntry[]): StampedProto {
  const { groups, order } = byService(entries)
  let k = 0
  const resourceLogs = [...groups].map(([service, list]) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeLogs: [{
      scope: { name: 'bench' },
      logRecords: list.map((i) => ({ timeUnixNano: PLACEHOLDER_HI * 2 ** 32 + k++, body: { stringValue: entries[i]!.message } }))
    }]
  }))
  const buf = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject({ resourceLogs })).finish()
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length)
  // Each timeUnixNano is 09 <8 bytes, little-endian>.
  const mark = Buffer.alloc(4)
  mark.writeUInt32LE(PLACEHOLDER_HI)
  const at = new Uint32Array(entries.length)
  let found = 0
  for (let p = view.indexOf(mark); p >= 0; p = view.indexOf(mark, p + 4)) {
    if (view[p - 5] !== 0x09) continue
    at[view.readUInt32LE(p - 4)] = p - 4
    found++
  }
  if (found !== entries.length) throw new Error(`bench: found ${found} of ${entries.length} OTLP timestamps`)
  return { buf, at, offsets: Float64Array.from(order, (i) => entries[i]!.offsetUs) }
}

class OtlpFeed extends StampedProtoFeed {
  protected stamp (body: StampedProto, baseUs: number): Uint8Array {
    const { buf, at, offsets } = body
    const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length)
    for (let k = 0; k < offsets.length; k++) {
      // ns = µs × 1000 exceeds 2^53: built from the µs's two 32-bit halves, exactly.
      const us = Math.round(baseUs + offsets[k]!)
      const usHi = Math.floor(us / 2 ** 32)
      const low = (us - usHi * 2 ** 32) * 1000
      const carry = Math.floor(low / 2 ** 32)
      view.writeUInt32LE(low - carry * 2 ** 32, at[k]!)
      view.writeUInt32LE(usHi * 1000 + carry, at[k]! + 4)
    }
    return buf
  }
}

/** OTLP/HTTP protobuf bodies of the given batches. */
export function otlpFeed (batches: readonly TemplateEntry[][]): BodyFeed {
  return new OtlpFeed(batches.map(otlpBody), '/v1/logs', { 'content-type': 'application/x-protobuf' })
}
