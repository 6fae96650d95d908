// Bytes per stored entry, measured in-process, and the time ShardStore.purge()
// blocks. Run as its own process so nothing else lives in its heap:
//
//   node --expose-gc dist/bench/memory-probe.js <entries>
//
// It ingests <entries> entries (~80-byte messages, 50 services, ~5% late) into
// one ShardStore in batches of 1000, built the way the server builds them:
// NDJSON text parsed with JSON.parse, so the stored strings are the same kind
// of flat strings a shard holds. After gc() it reports the heapUsed and RSS
// growth per entry, then purges everything as expired, timing each purge()
// call, and prints one JSON line on stdout.
import type { IngestBatch } from '../src/store/shard-messages.js'
import { putBatch } from '../src/ingest/shard-ingest.js'
import { ShardStore } from '../src/store/shard-store.js'
import { parseTimestamp } from '../src/core/timestamp.js'
import { SERVICES, TimestampWriter, entryLine, makeMessage, nowUs, prng } from './data.js'

const BATCH = 1000
const SPACING_US = 100
const LATE_FRACTION = 0.05
const MAX_LATE_US = 2e6
/** Bounds on the purge loop, in case purge() works in steps. */
const MAX_PURGE_CALLS = 100_000
const MAX_PURGE_MS = 60_000

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error('memory-probe: start node with --expose-gc')
  process.exit(2)
}
const entries = Number(process.argv[2] ?? 1_000_000)
if (!Number.isSafeInteger(entries) || entries < BATCH) {
  console.error(`memory-probe: entries must be a whole number of at least ${BATCH}`)
  process.exit(2)
}

function settle (): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc!()
  return process.memoryUsage()
}

const rand = prng(11)
const writer = new TimestampWriter()
const base = nowUs() - 30 * 60e6
const serviceIndex = new Map(SERVICES.map((s, i) => [s, i]))

function makeBatch (first: number, count: number): IngestBatch {
  const lines: string[] = []
  for (let k = first; k < first + count; k++) {
    let ts = base + k * SPACING_US
    if (rand() < LATE_FRACTION) ts -= Math.floor(rand() * MAX_LATE_US)
    lines.push(entryLine(SERVICES[Math.floor(rand() * SERVICES.length)]!, writer.format(ts), makeMessage(rand)))
  }
  const items = lines.join('\n').split('\n').map((line) => JSON.parse(line) as { service: string, timestamp: string, message: string })
  return {
    streams: SERVICES.map((service) => ({ service, labels: [] })),
    streamIdx: Uint32Array.from(items, (e) => serviceIndex.get(e.service)!),
    ts: Float64Array.from(items, (e) => parseTimestamp(e.timestamp)),
    seq: Float64Array.from(items, (_, i) => first + i + 1),
    messages: items.map((e) => e.message),
    attrCount: new Uint8Array(items.length),
    attrs: []
  }
}

const store = new ShardStore()
const before = settle()
let ingestMs = 0
for (let first = 0; first < entries; first += BATCH) {
  const batch = makeBatch(first, Math.min(BATCH, entries - first))
  const t0 = performance.now()
  store.ingest((sink) => putBatch(batch, sink))
  ingestMs += performance.now() - t0
}
// The server's shards seal blocks that stay idle for a few seconds; measure that steady state.
store.sealIdle(Date.now() + 3_600_000, 0)
const after = settle()

const cutoff = base + entries * SPACING_US + 1
let purgeMax = 0
let purgeTotal = 0
let purgeCalls = 0
let dropped = 0
const purgeStart = performance.now()
while (store.entries > 0 && purgeCalls < MAX_PURGE_CALLS && performance.now() - purgeStart < MAX_PURGE_MS) {
  const t0 = performance.now()
  const d = store.purge(cutoff)
  const ms = performance.now() - t0
  purgeCalls++
  purgeTotal += ms
  if (ms > purgeMax) purgeMax = ms
  dropped += d
  if (d === 0) break
}

// What the shard does after a purge that freed at least as much as it still
// holds (src/store/shard-handler.ts): one full collection. Timed alone.
const collectStart = performance.now()
gc()
const collectMs = performance.now() - collectStart

const heapDelta = after.heapUsed - before.heapUsed
const rssDelta = after.rss - before.rss
console.log(JSON.stringify({
  entries,
  heapDeltaBytes: heapDelta,
  rssDeltaBytes: rssDelta,
  heapPerEntry: heapDelta / entries,
  rssPerEntry: rssDelta / entries,
  ingestSeconds: ingestMs / 1000,
  purgeMs: purgeMax,
  purgeCalls,
  purgeTotalMs: purgeTotal,
  purgeDropped: dropped,
  collectMs
}))
