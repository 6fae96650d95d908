// The attack soak's /healthz poller, in a process of its own: polled from the
// load generator's event loop, the figure also counted the generator's own
// stalls (building 4 MiB batches, 10,000-deep documents), not only the server's.
//
//   node dist/bench/health-poller.js <url> <ms> <everyMs> <limitMs>
//
// Polls until <ms> have passed, then prints one JSON line: {polls, worstMs, slow, failed}.
import { setTimeout as sleep } from 'node:timers/promises'

const [url, ms, everyMs, limitMs] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])]
const until = Date.now() + ms
const health = { polls: 0, worstMs: 0, slow: 0, failed: 0 }
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
  if (took > limitMs) health.slow++
  await sleep(Math.max(0, everyMs - took))
}
console.log(JSON.stringify(health))
