// The cost of one round trip to a worker thread: piscina (as the shards use
// it: one thread, atomics disabled, HOP_PIPELINE tasks in flight; the shards
// use 16) against a bare worker_threads Worker with a MessagePort and an
// id → callback map. Measured the way the server uses
// the hop: sequential calls (latency) and 64 calls in flight (throughput),
// each carrying a small query-sized message and answering ~1 KB.
//
// Run: npm run build && HOP_PIPELINE=16 node dist/bench/thread-hop.js
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort } from 'node:worker_threads'
import { Piscina } from 'piscina'

const SELF = fileURLToPath(import.meta.url)
const REPLY = 'x'.repeat(1024)
const CALLS = 20_000
/** Tasks piscina may hand the worker before the first is answered (the shards use the same). */
const PIPELINE = Number(process.env.HOP_PIPELINE ?? 16)

interface Call { id: number, services: string[], start: number, end: number }

/** What either worker does with a call: almost nothing, so the hop is what is measured. */
export default function answer (call: Call): { id: number, body: string } {
  return { id: call.id, body: REPLY }
}

if (!isMainThread && parentPort !== null && process.env.HOP_RAW === '1') {
  const port = parentPort
  port.on('message', (call: Call) => port.postMessage(answer(call)))
}

type Caller = (call: Call) => Promise<unknown>

function rawCaller (): { call: Caller, close: () => Promise<number> } {
  const worker = new Worker(SELF, { env: { ...process.env, HOP_RAW: '1' } })
  const waiting = new Map<number, (value: unknown) => void>()
  worker.on('message', (reply: { id: number }) => {
    waiting.get(reply.id)?.(reply)
    waiting.delete(reply.id)
  })
  return {
    call: (c) => new Promise((resolve) => {
      waiting.set(c.id, resolve)
      worker.postMessage(c)
    }),
    close: () => worker.terminate()
  }
}

function piscinaCaller (): { call: Caller, close: () => Promise<void> } {
  const pool = new Piscina({ filename: SELF, minThreads: 1, maxThreads: 1, idleTimeout: Infinity, atomics: 'disabled', concurrentTasksPerWorker: PIPELINE })
  return { call: (c) => pool.run(c), close: () => pool.close() }
}

async function measure (call: Caller): Promise<{ p50: number, p99: number, perSecond: number }> {
  const msg = (id: number): Call => ({ id, services: ['svc-7'], start: 1, end: 2 })
  for (let i = 0; i < 2000; i++) await call(msg(i)) // warm-up
  const lat: number[] = []
  for (let i = 0; i < CALLS / 4; i++) {
    const t = performance.now()
    await call(msg(i))
    lat.push(performance.now() - t)
  }
  lat.sort((a, b) => a - b)
  const t = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < CALLS) await call(msg(next++))
  }))
  const perSecond = CALLS / ((performance.now() - t) / 1000)
  return { p50: lat[Math.floor(lat.length * 0.5)]! * 1000, p99: lat[Math.floor(lat.length * 0.99)]! * 1000, perSecond }
}

async function main (): Promise<void> {
  console.log(`thread hop, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`)
  const rows: string[] = []
  for (let round = 0; round < 2; round++) {
    for (const [name, make] of [['piscina', piscinaCaller], ['worker_threads', rawCaller]] as const) {
      const c = make()
      const r = await measure(c.call)
      await c.close()
      rows.push(`| ${round + 1} | ${name} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${Math.round(r.perSecond).toLocaleString('en-US')} |`)
    }
  }
  console.log('| round | transport | sequential p50 µs | sequential p99 µs | calls/s, 64 in flight |')
  console.log('| ---: | --- | ---: | ---: | ---: |')
  for (const r of rows) console.log(r)
}

if (isMainThread) await main()
