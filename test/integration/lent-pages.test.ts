import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { shardOf } from '../../src/core/hash.js'
import { eventually, startTestServer, type RunningServer } from './helpers.js'

// Query answers made in the memory each worker shard shares with the front
// (src/transport/worker/page-memory.ts): every lent part comes back once its
// page is on the socket, whatever becomes of the query, and no page is ever
// written from memory that was handed out again.

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const T0 = Date.now() - 600_000
const SERVICES = ['api', 'web', 'db', 'queue', 'auth', 'mail']

async function fill (url: string): Promise<void> {
  const lines: string[] = []
  for (let i = 0; i < 6000; i++) {
    const service = SERVICES[i % SERVICES.length]!
    lines.push(JSON.stringify({ service, timestamp: new Date(T0 + i * 50).toISOString(), message: `entry ${i} of ${service} "quoted" ünïcode`, attributes: { trace: `t${i}`, level: i % 7 === 0 ? 'error' : 'info' } }))
  }
  const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
  expect(res.status).toBe(201)
}

const range = `start=${new Date(T0).toISOString()}&end=${new Date(T0 + 400_000).toISOString()}`
const lokiRange = `start=${T0 * 1e6}&end=${(T0 + 400_000) * 1e6}`
const PATHS = [
  `/logs?service=api&${range}&limit=700`,
  `/logs?service=web&${range}&limit=500&format=ndjson`,
  `/logs?service=db&${range}&limit=300&format=text&order=desc`,
  `/logs?${range}&limit=2000`,
  `/logs?service=api&service=auth&${range}&limit=900&attr.level=error`,
  `/loki/api/v1/query_range?query=${encodeURIComponent('{service="queue"}')}&${lokiRange}&limit=800&direction=forward`,
  `/loki/api/v1/query_range?query=${encodeURIComponent('{service=~".+"} |= "entry"')}&${lokiRange}&limit=1500`
]

async function body (url: string, path: string): Promise<string> {
  const res = await fetch(`${url}${path}`)
  expect(res.status).toBe(200)
  return await res.text()
}

/** Asks for `path` and closes the connection before (or while) the answer comes. */
function leave (url: string, path: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const u = new URL(url)
    const req = request({ host: u.hostname, port: u.port, path })
    req.on('error', () => resolve())
    req.on('close', () => resolve())
    req.end()
    setTimeout(() => req.destroy(), afterMs)
  })
}

describe('lent query pages', () => {
  it('are given back after every page, merged or not, written, abandoned or failed, and never overwritten while written', async () => {
    server = await startTestServer({ shards: 2, queryConcurrency: 64 })
    const { url, router } = server
    await fill(url)
    // Count what the front gives back, shard by shard, through the Shard interface.
    const givenBack = router.shards.map(() => 0)
    router.shards.forEach((shard, i) => {
      const release = shard.release.bind(shard)
      shard.release = (part) => {
        if (part.lent !== undefined) givenBack[i]!++
        release(part)
      }
    })

    const alone: string[] = []
    for (const path of PATHS) alone.push(await body(url, path))
    // Every page again, many at once: a part given back too early would be overwritten by another's.
    const together = await Promise.all(Array.from({ length: 4 }, () => Promise.all(PATHS.map((p) => body(url, p)))))
    for (const round of together) expect(round).toEqual(alone)
    // Clients that leave before the answer, or in the middle of it.
    await Promise.all(PATHS.flatMap((p, i) => [leave(url, p, 0), leave(url, p, 1 + i)]))

    const allBack = (): boolean => router.shards.every((s) => s.lentBytes === 0)
    expect(await eventually(allBack, 5000)).toBe(true)
    // Both shards lent parts (the merged pages ask both), and got them back.
    for (const n of givenBack) expect(n).toBeGreaterThan(5)
    expect(JSON.parse(alone[0]!).logs).toHaveLength(700)
  })

  it('are given back when the query fails on another shard', async () => {
    server = await startTestServer({ shards: 2, queryMaxScan: 3000 })
    const { url, router } = server
    const onShard = (n: number): string => Array.from({ length: 100 }, (_, i) => `svc-${i}`).find((s) => shardOf(s, 2) === n)!
    const heavy = onShard(0)
    const light = onShard(1)
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ service: i < 4000 ? heavy : light, timestamp: new Date(T0 + i * 50).toISOString(), message: `m${i}` }))
    expect((await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })).status).toBe(201)
    let lentByLight = 0
    const shard1 = router.shards[1]!
    const release = shard1.release.bind(shard1)
    shard1.release = (part) => {
      if (part.lent !== undefined) lentByLight++
      release(part)
    }
    // The heavy service's shard scans past QUERY_MAX_SCAN and fails the query; the light one's answers.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${url}/logs?service=${heavy}&service=${light}&${range}&limit=10000&contains=nothing-matches`)
      expect(res.status).toBe(503)
      expect(((await res.json()) as { error: string }).error).toMatch(/QUERY_MAX_SCAN/)
    }
    expect(await eventually(() => router.shards.every((s) => s.lentBytes === 0), 5000)).toBe(true)
    // (A light query the failure cancelled before it ran lent nothing.)
    expect(lentByLight).toBeGreaterThan(0)
    // Both shards go on serving.
    expect(JSON.parse(await body(url, `/logs?service=${light}&${range}&limit=100`)).logs).toHaveLength(100)
  })
})
