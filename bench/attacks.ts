import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

// The attack mix of `npm run soak -- --attack` (issue 7), one function per
// attack. Each runs until `until` (epoch ms), is bounded in count as well as
// time, talks to 127.0.0.1 only, and tallies what the server answered by
// status ("aborted", "timeout" and "error" for requests without an answer).

export type Tally = Record<string, number>

export interface AttackTarget {
  url: string
  port: number
  until: number
}

/** Longest any single attack request may wait for its answer. */
const REQUEST_TIMEOUT_MS = 30_000

const count = (tally: Tally, key: string): void => { tally[key] = (tally[key] ?? 0) + 1 }

async function send (tally: Tally, url: string, init: RequestInit): Promise<void> {
  try {
    const res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    await res.arrayBuffer()
    count(tally, String(res.status))
  } catch (err) {
    const name = (err as Error).name
    count(tally, name === 'AbortError' ? 'aborted' : name === 'TimeoutError' ? 'timeout' : 'error')
  }
}

/**
 * NDJSON as Python's json.dumps writes it (`"service": "x"`, a space after
 * each colon and comma): lines that today's quick service look-up does not
 * recognise. Bodies of ~256 KiB, built once.
 */
export async function pythonStyle ({ url, until }: AttackTarget, tally: Tally): Promise<void> {
  const lines: string[] = []
  for (let i = 0, size = 0; size < 256 * 1024; i++) {
    const line = `{"service": "py-${i % 5}", "timestamp": "${new Date().toISOString()}", "message": "python client line ${i} GET /api/v1/items 200"}`
    lines.push(line)
    size += line.length + 1
  }
  for (let n = 0; Date.now() < until && n < 10_000; n++) {
    // Fresh timestamps, so the entries stay inside the accepted window.
    const ts = new Date().toISOString()
    const body = lines.map((l) => l.replace(/"timestamp": "[^"]*"/, `"timestamp": "${ts}"`)).join('\n') + '\n'
    await send(tally, `${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
  }
}

/**
 * A raw socket that sends `perRound` pipelined `GET /logs?limit=10000` at once
 * and never reads; a new such socket every `everyMs`, at most `rounds`.
 * Tallies requests sent and how each socket ended.
 */
export async function pipelinedUnread ({ port, until }: AttackTarget, tally: Tally, perRound = 100, rounds = 3, everyMs = 20_000): Promise<void> {
  const sockets: Socket[] = []
  let ending = false
  const request = `GET /logs?limit=10000 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`
  try {
    for (let r = 0; r < rounds && Date.now() < until; r++) {
      const socket = connect({ host: '127.0.0.1', port })
      sockets.push(socket)
      socket.on('error', () => count(tally, 'socket error'))
      socket.on('close', () => count(tally, ending ? 'sockets still open at the end' : 'sockets closed by the server'))
      socket.once('connect', () => {
        socket.pause() // never read: the answers stay in the kernel buffers and the server's
        socket.write(request.repeat(perRound))
        tally['GETs sent'] = (tally['GETs sent'] ?? 0) + perRound
      })
      await sleep(Math.min(everyMs, Math.max(0, until - Date.now())))
    }
  } finally {
    ending = true
    for (const s of sockets) s.destroy()
  }
}

/** One new service per entry, 1000 per NDJSON batch, up to `max` services. */
export async function manyServices ({ url, until }: AttackTarget, tally: Tally, max = 100_000): Promise<void> {
  for (let first = 0; first < max && Date.now() < until; first += 1000) {
    const ts = new Date().toISOString()
    const lines: string[] = []
    for (let i = first; i < Math.min(max, first + 1000); i++) lines.push(`{"service":"many-${i}","timestamp":"${ts}","message":"label explosion ${i}"}`)
    tally['services sent'] = (tally['services sent'] ?? 0) + lines.length
    await send(tally, `${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') + '\n' })
  }
}

/** Heavy queries (`limit=10000&contains=zzz`, every service) abandoned after `abortMs`, `parallel` at a time. */
export async function abandonedQueries ({ url, until }: AttackTarget, tally: Tally, parallel = 8, abortMs = 5): Promise<void> {
  for (let n = 0; Date.now() < until && n < 5_000; n++) {
    await Promise.all(Array.from({ length: parallel }, async () => {
      const controller = new AbortController()
      const timer = setTimeout(() => controller.abort(), abortMs)
      await send(tally, `${url}/logs?limit=10000&contains=zzz`, { signal: controller.signal })
      clearTimeout(timer)
    }))
    await sleep(20)
  }
}

/** What a web page can send without a preflight: a text/plain POST from another origin. */
export async function crossOrigin ({ url, until }: AttackTarget, tally: Tally): Promise<void> {
  for (let n = 0; Date.now() < until && n < 10_000; n++) {
    const body = JSON.stringify({ service: 'evil', timestamp: new Date().toISOString(), message: `forged entry ${n}` })
    await send(tally, `${url}/logs`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body })
    await sleep(50)
  }
}

// Issue 18's round: a metric query that explodes into series × points, tails that never read
// while large batches arrive, and JSON nested far deeper than any walk should follow.

const lokiRange = (url: string, query: string, startNs: bigint, endNs: bigint, step: string): string =>
  `${url}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=${startNs}&end=${endNs}&step=${step}`

/**
 * 3000 lines of distinct JSON in one service, then, until the end, the queries that froze the
 * server: `count_over_time(… | json [1h])` at a 1 ms step over 11 s (3000 series × 11,000
 * points), and `topk(1, …)` over the same series. Each must be refused (4xx) quickly.
 */
export async function metricExplosion ({ url, until }: AttackTarget, tally: Tally): Promise<void> {
  const ts = new Date().toISOString()
  for (let first = 0; first < 3000; first += 1000) {
    const lines: string[] = []
    for (let i = first; i < first + 1000; i++) lines.push(JSON.stringify({ service: 'explode', timestamp: ts, message: JSON.stringify({ [`k${i}`]: `v${i}`, id: i }) }))
    await send(tally, `${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
  }
  const queries = ['count_over_time({service="explode"} | json [1h])', 'topk(1, count_over_time({service="explode"} | json [1h]))']
  for (let n = 0; Date.now() < until && n < 1000; n++) {
    const endNs = BigInt(Date.now()) * 1_000_000n
    await send(tally, lokiRange(url, queries[n % 2]!, endNs - 11_000_000_000n, endNs, '0.001'), {})
    await sleep(200)
  }
}

/**
 * `tails` SSE tails of one service that never read (their sockets paused), while 4 MiB NDJSON
 * batches of that service arrive every 2 s: what the shards and the front hold for them must stay
 * bounded (TAIL_BUFFER_BYTES, TAIL_SHARD_BYTES), and they are told what they missed.
 */
export async function unreadTails ({ url, port, until }: AttackTarget, tally: Tally, tails = 50): Promise<void> {
  const sockets: Socket[] = []
  let ending = false
  try {
    for (let t = 0; t < tails; t++) {
      const socket = connect({ host: '127.0.0.1', port })
      sockets.push(socket)
      socket.on('error', () => count(tally, 'tail socket error'))
      socket.on('close', () => count(tally, ending ? 'tails still open at the end' : 'tails closed by the server'))
      socket.once('connect', () => {
        socket.write(`GET /logs/tail?service=tailed HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`)
        socket.pause()
      })
    }
    const line = (i: number): string => JSON.stringify({ service: 'tailed', timestamp: new Date().toISOString(), message: `tailed line ${i} ${'x'.repeat(200)}` })
    for (let b = 0; Date.now() < until && b < 1000; b++) {
      const lines: string[] = []
      for (let i = 0, size = 0; size < 4 * 1024 * 1024; i++) {
        const l = line(i)
        lines.push(l)
        size += l.length + 1
      }
      await send(tally, `${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
      await sleep(Math.min(2000, Math.max(0, until - Date.now())))
    }
  } finally {
    ending = true
    for (const s of sockets) s.destroy()
  }
}

/** JSON nested `depth` levels deep: `{"a":{"a":…1…}}`. */
const deep = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

/**
 * A stored line of 10,000-deep JSON queried with `| json` and `detected_fields` (each must answer,
 * not overflow a stack), and 10,000-deep documents posted to /insert/jsonline and OTLP JSON (each
 * a 400, never a 500 that a shipper would retry forever).
 */
export async function deepJson ({ url, until }: AttackTarget, tally: Tally): Promise<void> {
  const doc = deep(10_000)
  await send(tally, `${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'deep', timestamp: new Date().toISOString(), message: doc }) })
  const otlp = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${'{"kvlistValue":{"values":[{"key":"a","value":'.repeat(2000)}{"stringValue":"x"}${'}]}}'.repeat(2000)}}]}]}]}`
  for (let n = 0; Date.now() < until && n < 1000; n++) {
    const endNs = BigInt(Date.now()) * 1_000_000n
    await send(tally, lokiRange(url, '{service="deep"} | json', endNs - 3_600_000_000_000n, endNs, '60'), {})
    await send(tally, `${url}/loki/api/v1/detected_fields?query=${encodeURIComponent('{service="deep"}')}`, {})
    await send(tally, `${url}/insert/jsonline?_stream_fields=service`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `{"service":"deep","_msg":"x","nested":${doc}}\n` })
    await send(tally, `${url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: otlp })
    await sleep(500)
  }
}
