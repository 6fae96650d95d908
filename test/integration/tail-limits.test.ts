import { get, type IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { eventually, startTestServer, type RunningServer } from './helpers.js'

// Live tails cannot multiply memory (issue 18, item 3): MAX_TAILS bounds how many are open
// (429 past it, in each protocol's shape), and clients that never read cost at most the
// byte bounds on the shards (TAIL_SHARD_BYTES, seen in /metrics) while ingest goes on.

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** A tail whose client does not read: paused as soon as its headers arrive. */
async function stalledTail (url: string, params: string): Promise<{ res: IncomingMessage, text: () => string, resume: () => void }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${url}/logs/tail?${params}`, { agent: false }, resolve).once('error', reject))
  res.pause()
  let text = ''
  res.setEncoding('utf8')
  return { res, text: () => text, resume: () => { res.on('data', (c: string) => { text += c }); res.resume() } }
}

async function metric (url: string, name: string): Promise<number[]> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return text.split('\n').filter((l) => l.startsWith(name)).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)))
}

const ndjson = (service: string, n: number, size: number): string => {
  const now = new Date().toISOString()
  const filler = 'x'.repeat(size)
  return Array.from({ length: n }, (_, i) => JSON.stringify({ service, timestamp: now, message: `${i} ${filler}` })).join('\n')
}

async function timedPost (url: string, body: string): Promise<number> {
  const started = performance.now()
  const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
  expect(res.status).toBe(201)
  return performance.now() - started
}

describe('MAX_TAILS', () => {
  it('refuses the tail past MAX_TAILS with a 429 naming the limit (JSON for /logs/tail, before the upgrade for Loki), and a freed slot is reused', async () => {
    server = await startTestServer({ shards: 2, maxTails: 2 })
    const url = server.url
    const first = new AbortController()
    const second = new AbortController()
    expect((await fetch(`${url}/logs/tail?service=a`, { signal: first.signal })).status).toBe(200)
    expect((await fetch(`${url}/logs/tail?service=b`, { signal: second.signal })).status).toBe(200)

    const refused = await fetch(`${url}/logs/tail?service=c`)
    expect(refused.status).toBe(429)
    const body = await refused.json() as { error: string, code: string }
    expect(body.code).toBe('LOGAGG_ERR_TOO_MANY_TAILS')
    expect(body.error).toMatch(/MAX_TAILS/)

    const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{service="c"}')}`)
    const answer = await new Promise<{ status: number, text: string }>((resolve) => ws.once('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    }))
    expect(answer.status).toBe(429)
    expect(JSON.parse(answer.text)).toMatchObject({ status: 'error', error: expect.stringMatching(/MAX_TAILS/) })

    first.abort()
    expect(await eventually(async () => (await metric(url, 'logagg_tail_subscribers'))[0] === 1, 5000)).toBe(true)
    const again = new AbortController()
    expect((await fetch(`${url}/logs/tail?service=c`, { signal: again.signal })).status).toBe(200)
    second.abort()
    again.abort()
  })
})

describe('tail buffers are bounded in bytes', () => {
  it('tails that never read hold at most TAIL_SHARD_BYTES on each shard while several MB are ingested, and are told what they missed', async () => {
    const shardBound = 160 * 1024
    server = await startTestServer({ shards: 2, tailBufferBytes: 64 * 1024, tailShardBytes: shardBound, maxTails: 20 })
    const url = server.url
    const baseline = await timedPost(url, ndjson('calm', 6000, 300))
    // Three layouts and two filters: six distinct renderings a shard may keep, more than its bound.
    const params = ['service=flood', 'service=flood&format=ndjson', 'service=flood&format=text', 'service=flood&contains=1', 'service=flood&format=ndjson&contains=2', 'service=flood&format=text&contains=3']
    const tails = await Promise.all(Array.from({ length: 12 }, (_, i) => stalledTail(url, params[i % params.length]!)))
    const times: number[] = []
    for (let i = 0; i < 4; i++) times.push(await timedPost(url, ndjson('flood', 6000, 300)))

    const peaks = await metric(url, 'logagg_shard_tail_peak_bytes')
    expect(peaks).toHaveLength(2)
    expect(peaks.some((p) => p > 0)).toBe(true)
    for (const p of peaks) expect(p).toBeLessThanOrEqual(shardBound)
    // Stalled tails are not shipped to the front: ingest stays near its pace without tails.
    for (const t of times) expect(t).toBeLessThan(baseline * 4 + 1000)

    for (const t of tails) t.resume()
    const told = (text: string): boolean => /event: dropped\ndata: \{"dropped":[1-9]|^\{"dropped":[1-9]|^# [1-9]\d* entries were dropped/m.test(text)
    expect(await eventually(() => tails.every((t) => told(t.text())), 10_000)).toBe(true)
    for (const t of tails) t.res.destroy()
    expect(await eventually(async () => (await metric(url, 'logagg_shard_tail_bytes')).every((b) => b === 0), 5000)).toBe(true)
  })
})
