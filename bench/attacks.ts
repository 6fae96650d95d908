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
