import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

// The message types of the two push protocols, loaded once from the vendored
// .proto files in proto/ (see proto/README.md for where each comes from).
// protobufjs reads them at start; field names become lowerCamelCase.

/** proto/ at the repository root, found from src/ (tests) or dist/src/ (the server). */
function protoDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'proto', 'loki', 'push.proto'))) return join(dir, 'proto')
    dir = dirname(dir)
  }
  throw new Error('proto/loki/push.proto not found above ' + fileURLToPath(import.meta.url))
}

const require = createRequire(import.meta.url)
const PROTOBUFJS = dirname(require.resolve('protobufjs'))

function load (): protobuf.Root {
  const dir = protoDir()
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => {
    // descriptor.proto ships with protobufjs as a file; timestamp and any are built in.
    if (target === 'google/protobuf/descriptor.proto') return join(PROTOBUFJS, target)
    if (target.startsWith('google/protobuf/')) return target
    if (target.startsWith('gogoproto/')) return join(dir, 'loki', target)
    return isAbsolute(target) ? target : join(dir, target)
  }
  root.loadSync([
    join(dir, 'loki/push.proto'),
    join(dir, 'opentelemetry/proto/collector/logs/v1/logs_service.proto'),
    join(dir, 'google/rpc/status.proto')
  ])
  root.resolveAll()
  return root
}

const root = load()

export const PushRequest = root.lookupType('logproto.PushRequest')
export const ExportLogsServiceRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest')
export const ExportLogsServiceResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse')
export const RpcStatus = root.lookupType('google.rpc.Status')
export const ResourceLogs = root.lookupType('opentelemetry.proto.logs.v1.ResourceLogs')
export const Resource = root.lookupType('opentelemetry.proto.resource.v1.Resource')

/** A protobuf 64-bit integer as protobufjs gives it (a Long, or a number), or a JSON one (string or number). */
export type Int64 = number | string | { toString: () => string }

/** A Long as protobufjs decodes 64-bit fields: two 32-bit halves. */
interface LongBits { low: number, high: number, unsigned: boolean }
const isLong = (v: object): v is LongBits => typeof (v as LongBits).low === 'number' && typeof (v as LongBits).high === 'number'

/** A signed 64-bit integer as a number (exact up to 2^53); NaN when it is not an integer. */
export function int64 (v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0
  if (typeof v === 'number') return Number.isInteger(v) ? v : NaN
  // A Long within ±2^53 (every timestamp in seconds): its halves, without the text.
  if (typeof v === 'object' && isLong(v) && v.high >= (v.unsigned ? 0 : -0x200000) && v.high < 0x200000) return v.high * 2 ** 32 + (v.low >>> 0)
  const text = v.toString()
  return /^-?\d{1,20}$/.test(text) ? Number(text) : NaN
}

/** Nanoseconds since the epoch to microseconds, truncated; NaN when it is not an unsigned integer. */
export function nanosToMicros (ns: Int64 | null | undefined): number {
  if (ns === null || ns === undefined) return NaN
  if (typeof ns === 'number') return Number.isFinite(ns) && ns >= 0 ? Math.floor(ns / 1000) : NaN
  if (typeof ns === 'object' && isLong(ns) && (ns.unsigned || ns.high >= 0)) {
    // ns = high·2^32 + low, and 2^32 = 4294967·1000 + 296: every product stays exact.
    const high = ns.high >>> 0
    return high * 4294967 + Math.floor((high * 296 + (ns.low >>> 0)) / 1000)
  }
  const text = ns.toString()
  if (!/^\d{1,20}$/.test(text)) return NaN
  return text.length <= 3 ? 0 : Number(text.slice(0, -3))
}
