// The attack soak's /healthz poller, in a process of its own: polled from the
// load generator's event loop, the figure also counted the generator's own
// stalls (building 4 MiB batches, 10,000-deep documents), not only the server's.
//
//   node dist/bench/health-poller.js <url> <ms> <everyMs> <limitMs>
//
// Polls until <ms> have passed, then prints one JSON line: {polls, worstMs, slow, failed}.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

const [url, ms, everyMs, limitMs] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])]
const until = Date.now() + ms
const health = { polls: 0, worstMs: 0, slow: 0, failed: 0, slowAt: [] as number[], ownLagMs: 0 }
// The first fetch of a process loads and warms undici (tens of ms, hundreds on a loaded machine):
// that one is the poller's cost, not the server's, so it is made before the clock starts.
await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(async (res) => { await res.arrayBuffer() }, () => {})
// This process's own stalls (the machine has 2 cores for the server, the load and this), for reading a slow poll.
const lag = monitorEventLoopDelay({ resolution: 10 })
lag.enable()
const started = Date.now()
while (Date.now() < until && health.polls < 100_000) {
  const t0 = performance.now()
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })
    await res.arrayBuffer()
    if (res.status !== 200) health.failed++
  } catch {
    health.failed++
  }
  const took = performance.now() - t0
  health.polls++
  health.worstMs = Math.max(health.worstMs, took)
  if (took > limitMs) {
    health.slow++
    health.slowAt.push(Math.round((Date.now() - started) / 100) / 10)
  }
  await sleep(Math.max(0, everyMs - took))
}
health.ownLagMs = Math.round(lag.max / 1e6)
console.log(JSON.stringify(health))
