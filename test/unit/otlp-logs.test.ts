import { describe, expect, it } from 'vitest'
import { anyValue, decodeOtlpProto, flatten, labelName, otlpRecords } from '../../src/ingest/formats/otlp-logs.js'
import { ExportLogsServiceRequest } from '../../src/ingest/formats/protos.js'

const NOW = 1_800_000_000_000_000
const map = (req: unknown): ReturnType<typeof otlpRecords> => otlpRecords(req, NOW, NOW - 3600e6, NOW + 600e6)

const REQUEST = {
  resourceLogs: [{
    resource: {
      attributes: [
        { key: 'service.name', value: { stringValue: 'checkout' } },
        { key: 'k8s.pod', value: { kvlistValue: { values: [{ key: 'name', value: { stringValue: 'p-1' } }] } } },
        { key: '0weird-key', value: { intValue: '3' } }
      ]
    },
    scopeLogs: [{
      logRecords: [
        {
          timeUnixNano: '1800000000123456789',
          severityNumber: 9,
          severityText: 'INFO',
          body: { stringValue: 'paid' },
          attributes: [{ key: 'amount', value: { doubleValue: 9.5 } }, { key: 'ok', value: { boolValue: true } }],
          traceId: '0AF7651916CD43DD8448EB211C80319C',
          spanId: 'b7ad6b7169203331'
        },
        { observedTimeUnixNano: 1_800_000_000_000_001_000, body: { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'x' }] } } },
        { body: { kvlistValue: { values: [{ key: 'a', value: { bytesValue: 'AQI=' } }] } } }
      ]
    }]
  }]
}

describe('OTLP logs to records', () => {
  it('maps the JSON form: service.name, labels from the other resource attributes, ts, body, attributes', () => {
    const { records, problemCount, total } = map(REQUEST)
    expect(problemCount).toBe(0)
    expect(total).toBe(3)
    const labels = ['_0weird_key', '3', 'k8s_pod_name', 'p-1']
    expect(records).toEqual([
      {
        service: 'checkout',
        ts: 1_800_000_000_123_456,
        message: 'paid',
        labels,
        attributes: ['amount', '9.5', 'ok', 'true', 'severity_text', 'INFO', 'severity_number', '9', 'trace_id', '0af7651916cd43dd8448eb211c80319c', 'span_id', 'b7ad6b7169203331']
      },
      { service: 'checkout', ts: 1_800_000_000_000_001, message: '[1,"x"]', labels, attributes: null },
      { service: 'checkout', ts: NOW, message: '{"a":"AQI="}', labels, attributes: null }
    ])
  })

  it('maps the protobuf form the same way (ids as bytes, 64-bit integers as Longs)', () => {
    const proto = ExportLogsServiceRequest.fromObject({
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: '1800000000123456789', body: { intValue: 7 }, traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'), severityNumber: 17 }] }]
      }]
    })
    const decoded = decodeOtlpProto(Buffer.from(ExportLogsServiceRequest.encode(proto).finish()))
    expect(map(decoded).records).toEqual([{ service: 'checkout', ts: 1_800_000_000_123_456, message: '7', labels: null, attributes: ['severity_number', '17', 'trace_id', '0af7651916cd43dd8448eb211c80319c'] }])
  })

  it('maps every kind of value of the protobuf form as the JSON form, unset fields left out', () => {
    // ids are bytes in protobuf, hex in JSON; everything else is the same request.
    const asProto = structuredClone(REQUEST) as any
    const first = asProto.resourceLogs[0].scopeLogs[0].logRecords[0]
    first.traceId = Buffer.from(first.traceId, 'hex')
    first.spanId = Buffer.from(first.spanId, 'hex')
    asProto.resourceLogs[0].scopeLogs[0].logRecords[2].body.kvlistValue.values[0].value.bytesValue = Buffer.from('AQI=', 'base64')
    asProto.resourceLogs[0].scopeLogs[0].logRecords.push({ body: { boolValue: false }, attributes: [{ key: 'big', value: { intValue: '9007199254740993' } }] })
    const decoded = decodeOtlpProto(Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(asProto)).finish()))
    const { records, total } = map(decoded)
    expect(total).toBe(4)
    expect(records.slice(0, 3)).toEqual(map(REQUEST).records)
    expect(records[3]).toEqual({ service: 'checkout', ts: NOW, message: 'false', labels: records[0]!.labels, attributes: ['big', '9007199254740993'] })
  })

  it('uses unknown_service without service.name, and counts the records that fail validation', () => {
    const { records, problems, problemCount } = map({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '5', body: { stringValue: 'old' } }, { body: { stringValue: 'new' } }] }] }] })
    expect(records.map((r) => [r.service, r.message])).toEqual([['unknown_service', 'new']])
    expect(problemCount).toBe(1)
    expect(problems[0]).toBe('resourceLogs[0].scopeLogs[0].logRecords[0]: timestamp is older than the retention window')
  })

  it('refuses a request of the wrong shape, naming the place; ignores unknown fields', () => {
    expect(() => map([])).toThrow(/the request must be an object/)
    expect(() => map({ resourceLogs: {} })).toThrow(/resourceLogs must be an array/)
    expect(() => map({ resourceLogs: [{ scopeLogs: [{ logRecords: [3] }] }] })).toThrow(/logRecords\[0\] must be an object/)
    expect(() => map({ resourceLogs: [{ resource: { attributes: [{ value: {} }] } }] })).toThrow(/attributes\[0\]\.key must be a string/)
    expect(map({ unknown: 1, resourceLogs: [] }).total).toBe(0)
    expect(() => decodeOtlpProto(Buffer.from([0x0a, 0x05, 0x01]))).toThrow(/does not decode as ExportLogsServiceRequest/)
  })

  it('flattens nested values with dotted keys; label names keep letters, digits and _', () => {
    expect(flatten([{ key: 'a', value: { b: { c: 1 }, d: 'x' } }, { key: 'e', value: [1, 2] }, { key: 'f', value: null }])).toEqual(['a.b.c', '1', 'a.d', 'x', 'e', '[1,2]', 'f', ''])
    expect(labelName('service.namespace')).toBe('service_namespace')
    expect(labelName('9lives-x')).toBe('_9lives_x')
    expect(anyValue({ intValue: '9007199254740993' }, 'v')).toBe('9007199254740993')
    expect(anyValue({}, 'v')).toBeNull()
  })
})
