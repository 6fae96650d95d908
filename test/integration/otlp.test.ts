import { context, trace, TraceFlags } from '@opentelemetry/api'
import { SeverityNumber } from '@opentelemetry/api-logs'
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAll, startTestServer, type RunningServer } from './helpers.js'

// POST /v1/logs, first through the OpenTelemetry JS logs SDK with both OTLP
// exporters (JSON and protobuf, the latter gzipped), then by hand for the
// answers the OTLP spec asks for.

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { ExportLogsServiceRequest, ExportLogsServiceResponse, RpcStatus } = await import(dist('ingest/formats/protos.js')) as typeof import('../../src/ingest/formats/protos.js')
const { formatTimestamp } = await import(dist('core/timestamp.js')) as typeof import('../../src/core/timestamp.js')

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2, maxBody: 256 * 1024 })
  url = server.url
})
afterAll(async () => { await server.close() })

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const SPAN_ID = 'b7ad6b7169203331'

async function sendWithSdk (service: string, exporter: LogRecordExporter): Promise<number[]> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test', 'k8s.pod': { name: 'api-1' } as never }),
    processors: [new SimpleLogRecordProcessor({ exporter })]
  })
  const logger = provider.getLogger('logagg-test')
  const s = Math.floor(Date.now() / 1000) - 2
  const spanContext = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED })
  // HrTime with nanoseconds: the server keeps the microseconds.
  logger.emit({ timestamp: [s, 123_456_789], severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'hello from otel', attributes: { 'http.status': 500, user: { id: 'u1' } as never }, context: spanContext })
  logger.emit({ timestamp: [s + 1, 987_654_321], severityNumber: SeverityNumber.ERROR, body: { a: 1, b: [true, 'x'] } })
  await provider.forceFlush()
  await provider.shutdown()
  return [s * 1e6 + 123_456, (s + 1) * 1e6 + 987_654]
}

function expectSdkLogs (logs: Awaited<ReturnType<typeof readAll>>, service: string, times: number[]): void {
  const labels = { deployment_environment: 'test', k8s_pod_name: 'api-1' }
  expect(logs).toHaveLength(2)
  expect(logs[0]).toEqual({
    service,
    timestamp: formatTimestamp(times[0]!),
    message: 'hello from otel',
    attributes: expect.objectContaining({ ...labels, 'http.status': '500', 'user.id': 'u1', severity_text: 'INFO', severity_number: '9', trace_id: TRACE_ID, span_id: SPAN_ID })
  })
  expect(logs[1]).toEqual({
    service,
    timestamp: formatTimestamp(times[1]!),
    message: '{"a":1,"b":[true,"x"]}',
    attributes: expect.objectContaining({ ...labels, severity_number: '17' })
  })
  expect(logs[1]!.attributes).not.toHaveProperty('trace_id')
}

describe('OTLP through the OpenTelemetry JS logs SDK', () => {
  it('@opentelemetry/exporter-logs-otlp-http (JSON)', async () => {
    const times = await sendWithSdk('otel-json', new JsonExporter({ url: `${url}/v1/logs` }))
    expectSdkLogs(await readAll(url, 'service=otel-json'), 'otel-json', times)
  })

  it('@opentelemetry/exporter-logs-otlp-proto (protobuf, gzip)', async () => {
    const times = await sendWithSdk('otel-proto', new ProtoExporter({ url: `${url}/v1/logs`, compression: 'gzip' as never }))
    expectSdkLogs(await readAll(url, 'service=otel-proto'), 'otel-proto', times)
  })
})

async function post (body: Buffer | string, headers: Record<string, string>): Promise<{ status: number, type: string | null, bytes: Buffer, headers: Headers }> {
  const res = await fetch(`${url}/v1/logs`, { method: 'POST', headers, body })
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers }
}

const nowNs = (msAgo: number): string => `${BigInt(Date.now() - msAgo) * 1_000_000n + 789n}`
const request = (service: string, records: unknown[]): Record<string, unknown> => ({
  resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeLogs: [{ scope: {}, logRecords: records }] }]
})

describe('OTLP answers', () => {
  it('200 {} in JSON; observedTimeUnixNano, then arrival, stand in for a missing time; unknown fields ignored', async () => {
    const observed = nowNs(1000)
    const before = Date.now()
    const res = await post(JSON.stringify({ ...request('otlp-time', [{ observedTimeUnixNano: observed, body: { stringValue: 'observed' }, futureField: 1 }, { body: { intValue: '42' } }]), extra: true }), { 'content-type': 'application/json' })
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^application\/json/)
    expect(JSON.parse(res.bytes.toString())).toEqual({})
    const logs = await readAll(url, 'service=otlp-time')
    expect(logs.map((l) => l.message)).toEqual(['observed', '42'])
    expect(logs[0]!.timestamp).toBe(formatTimestamp(Number(observed.slice(0, -3))))
    expect(Date.parse(logs[1]!.timestamp)).toBeGreaterThanOrEqual(before - 1)
  })

  it('200 with partialSuccess when some records are refused, in JSON and in protobuf', async () => {
    const records = [{ timeUnixNano: nowNs(500), body: { stringValue: 'kept' } }, { timeUnixNano: '1000', body: { stringValue: 'too old' } }]
    const json = await post(JSON.stringify(request('otlp-partial', records)), { 'content-type': 'application/json' })
    expect(json.status).toBe(200)
    const answer = JSON.parse(json.bytes.toString())
    expect(answer.partialSuccess.rejectedLogRecords).toBe('1')
    expect(answer.partialSuccess.errorMessage).toMatch(/older than the retention window/)
    const proto = await post(Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(request('otlp-partial', records))).finish()), { 'content-type': 'application/x-protobuf' })
    expect(proto.status).toBe(200)
    expect(proto.type).toBe('application/x-protobuf')
    const decoded = ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(proto.bytes), { longs: Number }) as { partialSuccess: { rejectedLogRecords: number, errorMessage: string } }
    expect(decoded.partialSuccess.rejectedLogRecords).toBe(1)
    expect((await readAll(url, 'service=otlp-partial')).map((l) => l.message)).toEqual(['kept', 'kept'])
  })

  it('protobuf, decoded on the shards: the refused records of every shard named in request order, the others stored', async () => {
    // otlp-a and otlp-b are on the two shards of this server.
    const both = { resourceLogs: [...request('otlp-a', [{ timeUnixNano: '1000', body: { stringValue: 'a old' } }, { timeUnixNano: nowNs(300), body: { stringValue: 'a kept' } }]).resourceLogs as unknown[], ...request('otlp-b', [{ timeUnixNano: nowNs(200), body: { stringValue: 'b kept' } }, { timeUnixNano: `${BigInt(Date.now() + 3_600_000) * 1_000_000n}`, body: { stringValue: 'b later' } }]).resourceLogs as unknown[]] }
    const res = await post(Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(both)).finish()), { 'content-type': 'application/x-protobuf' })
    expect(res.status).toBe(200)
    const decoded = ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(res.bytes), { longs: Number }) as { partialSuccess: { rejectedLogRecords: number, errorMessage: string } }
    expect(decoded.partialSuccess.rejectedLogRecords).toBe(2)
    expect(decoded.partialSuccess.errorMessage).toMatch(/^2 log records were rejected: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]: .*older than the retention window; resourceLogs\[1\]\.scopeLogs\[0\]\.logRecords\[1\]: .*too far in the future/)
    expect((await readAll(url, 'service=otlp-a')).map((l) => l.message)).toEqual(['a kept'])
    expect((await readAll(url, 'service=otlp-b')).map((l) => l.message)).toEqual(['b kept'])
  })

  it('protobuf whose last resource does not decode (a field of the wrong wire type, messages nested too deep): 400, nothing stored', async () => {
    const { Writer } = (await import('protobufjs')).default
    const good = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(request('otlp-c', [{ timeUnixNano: nowNs(100), body: { stringValue: 'would be kept' } }]))).finish()
    // A ResourceLogs for otlp-d whose one LogRecord has its body (field 5, an AnyValue) as a varint.
    const badRecord = Writer.create().uint32((5 << 3) | 0).uint32(1).finish()
    const scope = Writer.create().uint32((2 << 3) | 2).bytes(badRecord).finish()
    const resource = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(request('otlp-d', []))).finish()
    const wrongType = Buffer.concat([good, resource, Writer.create().uint32((1 << 3) | 2).fork().uint32((2 << 3) | 2).bytes(scope).ldelim().finish()])
    const res = await post(wrongType, { 'content-type': 'application/x-protobuf' })
    expect(res.status).toBe(400)
    expect(RpcStatus.toObject(RpcStatus.decode(res.bytes))).toEqual({ code: 3, message: expect.stringMatching(/does not decode as ExportLogsServiceRequest \(LogRecord\.body is a message but came with wire type 0\)/) })
    // A body of AnyValues in ArrayValues 60 deep: 120 messages, past the 100 protobuf decoders nest (protoc's limit, and protobufjs's).
    let inner = Writer.create().uint32((1 << 3) | 2).string('leaf').finish()
    for (let i = 0; i < 60; i++) inner = Writer.create().uint32((5 << 3) | 2).bytes(Writer.create().uint32((1 << 3) | 2).bytes(inner).finish()).finish()
    const deepRecord = Writer.create().uint32((5 << 3) | 2).bytes(inner).finish()
    const name = Writer.create().uint32((1 << 3) | 2).string('service.name').uint32((2 << 3) | 2).bytes(Writer.create().uint32((1 << 3) | 2).string('otlp-d').finish()).finish()
    const deepResource = Writer.create()
      .uint32((1 << 3) | 2).bytes(Writer.create().uint32((1 << 3) | 2).bytes(name).finish())
      .uint32((2 << 3) | 2).bytes(Writer.create().uint32((2 << 3) | 2).bytes(deepRecord).finish())
      .finish()
    const deep = Buffer.concat([good, Writer.create().uint32((1 << 3) | 2).bytes(deepResource).finish()])
    const refused = await post(deep, { 'content-type': 'application/x-protobuf' })
    expect(refused.status).toBe(400)
    expect(RpcStatus.toObject(RpcStatus.decode(refused.bytes))).toEqual({ code: 3, message: expect.stringMatching(/does not decode as ExportLogsServiceRequest \(messages nested more than 99 deep/) })
    expect(await readAll(url, 'service=otlp-c')).toEqual([])
    expect(await readAll(url, 'service=otlp-d')).toEqual([])
  })

  it('400 with a google.rpc.Status for a malformed request, in the request\'s encoding', async () => {
    const json = await post('{"resourceLogs": 5}', { 'content-type': 'application/json' })
    expect(json.status).toBe(400)
    expect(JSON.parse(json.bytes.toString())).toEqual({ code: 3, message: expect.stringMatching(/resourceLogs must be an array.*LOGAGG_ERR_MALFORMED_BODY/) })
    const full = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(request('otlp-bad', [{ body: { stringValue: 'x' } }]))).finish()
    const proto = await post(Buffer.from(full.subarray(0, full.length - 3)), { 'content-type': 'application/x-protobuf' })
    expect(proto.status).toBe(400)
    expect(proto.type).toBe('application/x-protobuf')
    expect(RpcStatus.toObject(RpcStatus.decode(proto.bytes))).toEqual({ code: 3, message: expect.stringMatching(/does not decode/) })
  })

  it('415 for another content type or encoding, 413 for a gzip bomb, 405 on GET', async () => {
    expect((await post('x', { 'content-type': 'text/plain' })).status).toBe(415)
    expect((await post('{}', { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415)
    const bomb = await post(gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)), { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(bomb.status).toBe(413)
    expect(JSON.parse(bomb.bytes.toString()).message).toMatch(/MAX_BODY/)
    expect((await fetch(`${url}/v1/logs`)).status).toBe(405)
  })
})
