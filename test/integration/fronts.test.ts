import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NODE24, isoAt, spawnServer, type Spawned } from './helpers.js'

// FRONTS: several front threads accept on one port (reusePort, Node ≥ 22.12),
// each with its own port to every shard worker and sequence numbers taken in
// ranges from one shared counter. The server runs on the Node 24 binary that
// scripts/setup.sh installs in tools/node24; every request here goes on a
// connection of its own, so the kernel spreads them over the fronts.

interface Answer { status: number, text: string }

/** One request on a new connection (no keep-alive), so any front may take it. */
function fresh (url: string, method: string, path: string, body?: string, type = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent: false, headers: body === undefined ? {} : { 'content-type': type } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode!, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The value of one sample line of a Prometheus text, or 0 when absent. */
function sample (text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

/** Every page of a GET /logs query, following `next`, each page on a new connection. */
async function readAll (url: string, params: string, limit: number): Promise<Array<{ message: string, timestamp: string }>> {
  const all: Array<{ message: string, timestamp: string }> = []
  let cursor: string | null = null
  for (let pages = 0; pages < 1000; pages++) {
    const got = await fresh(url, 'GET', `/logs?${params}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    expect(got.status).toBe(200)
    const page = JSON.parse(got.text) as { logs: Array<{ message: string, timestamp: string }>, next: string | null }
    all.push(...page.logs)
    if (page.next === null) return all
    cursor = page.next
  }
  throw new Error('more than 1000 pages')
}

describe('FRONTS=2 on Node 24', () => {
  let server: Spawned
  let url: string

  beforeAll(async () => {
    expect(existsSync(NODE24), `${NODE24} is missing: npm run setup installs it (npm ci --prefix tools/node24)`).toBe(true)
    server = await spawnServer({ SHARDS: '2', FRONTS: '2' }, [], undefined, NODE24)
    url = server.url
  })
  afterAll(() => { server?.child.kill('SIGKILL') })

  it('accepts on both fronts, and every entry posted through either is read back once, in one order', async () => {
    const start = JSON.parse(server.lines.find((l) => l.includes('"listening"'))!)
    expect(start.settings.fronts).toBe(2)
    // 60 entries with one timestamp over 30 connections: their order is their sequence numbers alone.
    const ts = isoAt(-1000)
    for (let c = 0; c < 30; c++) {
      const lines = [0, 1].map((k) => JSON.stringify({ service: `svc-${c % 3}`, timestamp: ts, message: `m-${c}-${k}` })).join('\n')
      expect((await fresh(url, 'POST', '/logs', lines, 'application/x-ndjson')).status).toBe(201)
    }
    const metrics = (await fresh(url, 'GET', '/metrics')).text
    expect(sample(metrics, 'logagg_front_connections_total{front="0"}')).toBeGreaterThan(0)
    expect(sample(metrics, 'logagg_front_connections_total{front="1"}')).toBeGreaterThan(0)

    const params = `start=${encodeURIComponent(isoAt(-60_000))}&end=${encodeURIComponent(isoAt(60_000))}`
    const paged = await readAll(url, params, 7)
    const messages = paged.map((e) => e.message)
    expect(new Set(messages).size).toBe(60)
    expect(messages).toHaveLength(60)
    // The same order page by page (cursors across fronts) as in one page, and again.
    const whole = JSON.parse((await fresh(url, 'GET', `/logs?${params}&limit=1000`)).text) as { logs: Array<{ message: string }> }
    expect(whole.logs.map((e) => e.message)).toEqual(messages)
    // Within one request, its lines keep their order.
    for (let c = 0; c < 30; c++) expect(messages.indexOf(`m-${c}-0`)).toBeLessThan(messages.indexOf(`m-${c}-1`))
  })

  it('sums every front\'s counters in /metrics, whichever front is scraped', async () => {
    const series = 'logagg_ingested_entries_total{protocol="logs"}'
    const before: number[] = []
    for (let i = 0; i < 6; i++) before.push(sample((await fresh(url, 'GET', '/metrics')).text, series))
    // No ingest between the scrapes: every front answers the same total, that of the test above.
    expect(new Set(before).size).toBe(1)
    expect(before[0]).toBeGreaterThanOrEqual(60)
    for (let c = 0; c < 10; c++) expect((await fresh(url, 'POST', '/logs', JSON.stringify({ service: 'sum', timestamp: isoAt(0), message: `s${c}` }))).status).toBe(201)
    for (let i = 0; i < 4; i++) {
      const text = (await fresh(url, 'GET', '/metrics')).text
      expect(sample(text, series)).toBe(before[0]! + 10)
      expect(sample(text, 'logagg_shard_entries{shard="0"}') + sample(text, 'logagg_shard_entries{shard="1"}')).toBe(before[0]! + 10)
    }
  })

  it('delivers to live tails opened on either front what is posted through either', async () => {
    // Six tails on six connections: the fronts hand out tail ids of their own, so none is confused with another.
    const tails = await Promise.all(Array.from({ length: 6 }, () => new Promise<{ lines: string[], close: () => void }>((resolve, reject) => {
      const req = request(`${url}/logs/tail?service=live&format=ndjson`, { agent: false }, (res) => {
        expect(res.statusCode).toBe(200)
        const lines: string[] = []
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          text += c
          let nl
          while ((nl = text.indexOf('\n')) >= 0) {
            const line = text.slice(0, nl)
            text = text.slice(nl + 1)
            if (line.trim() !== '') lines.push((JSON.parse(line) as { message: string }).message)
          }
        })
        resolve({ lines, close: () => req.destroy() })
      })
      req.on('error', reject)
      req.end()
    })))
    try {
      for (let c = 0; c < 8; c++) expect((await fresh(url, 'POST', '/logs', JSON.stringify({ service: 'live', timestamp: isoAt(0), message: `live-${c}` }))).status).toBe(201)
      const want = Array.from({ length: 8 }, (_, c) => `live-${c}`)
      const deadline = Date.now() + 5000
      while (tails.some((t) => t.lines.length < 8) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      for (const t of tails) expect([...t.lines].sort()).toEqual([...want].sort())
    } finally {
      for (const t of tails) t.close()
    }
  })

  it('stops on SIGTERM with every front: exits 0 after finishing', async () => {
    const other = await spawnServer({ SHARDS: '2', FRONTS: '2' }, [], undefined, NODE24)
    expect((await fresh(other.url, 'POST', '/logs', JSON.stringify({ service: 's', timestamp: isoAt(0), message: 'm' }))).status).toBe(201)
    other.child.kill('SIGTERM')
    const [code] = await once(other.child, 'exit')
    expect(code).toBe(0)
    expect(other.lines.some((l) => l.includes('"stopped"'))).toBe(true)
  })
})

describe('FRONTS=2 when a shard worker dies', () => {
  it('every front answers 503 for it while it restarts, then stores and reads through its new worker', async () => {
    const file = fileURLToPath(new URL('../../dist/test/fixtures/fronts-server.js', import.meta.url))
    const child = spawn(NODE24, [file], { stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve)
        child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)))
      })
      const url = (JSON.parse(first) as { url: string }).url
      // Services on both shards, through both fronts.
      const post = (message: string): Promise<Answer> => fresh(url, 'POST', '/logs', ['a', 'b', 'c', 'd'].map((service) => JSON.stringify({ service, timestamp: isoAt(0), message })).join('\n'), 'application/x-ndjson')
      for (let i = 0; i < 6; i++) expect((await post(`before-${i}`)).status).toBe(201)
      child.stdin!.write('crash 0\n')
      // While shard 0 is down, a request that needs it is a 503 on whichever front takes it.
      const during: number[] = []
      const deadline = Date.now() + 10_000
      let healthyAgain = 0
      while (Date.now() < deadline && healthyAgain < 10) {
        const got = await post('during')
        during.push(got.status)
        expect([201, 503]).toContain(got.status)
        healthyAgain = got.status === 201 && during.includes(503) ? healthyAgain + 1 : 0
      }
      expect(during).toContain(503)
      // Ten posts in a row on ten new connections stored: both fronts have the new worker's port.
      expect(healthyAgain).toBe(10)
      const metrics = (await fresh(url, 'GET', '/metrics')).text
      expect(sample(metrics, 'logagg_shard_restarts_total{shard="0"}')).toBe(1)
      for (let i = 0; i < 6; i++) expect((await post(`after-${i}`)).status).toBe(201)
      const params = `start=${encodeURIComponent(isoAt(-60_000))}&end=${encodeURIComponent(isoAt(60_000))}`
      const after = (await readAll(url, params, 50)).map((e) => e.message).filter((m) => m.startsWith('after-'))
      expect(after).toHaveLength(24)
    } finally {
      child.kill('SIGKILL')
    }
  })
})

describe('FRONTS on the Node that runs the tests', () => {
  // npm test runs on Node 20, which has no reusePort: one front, and the start says why. (On Node 22.12
  // and later, as when the suite itself runs on tools/node24, the same settings start three fronts.)
  it('runs as many fronts as this Node can, and says so when it cannot', async () => {
    const { reusePortWorks } = await import('../../src/fronts/front-pool.js')
    const { child, url, lines } = await spawnServer({ SHARDS: '2', FRONTS: '3' })
    try {
      expect(lines.some((l) => l.includes('FRONTS needs Node 22.12 or later'))).toBe(!reusePortWorks())
      for (let c = 0; c < 30; c++) expect((await fresh(url, 'POST', '/logs', JSON.stringify({ service: 's', timestamp: isoAt(0), message: `one ${c}` }))).status).toBe(201)
      const metrics = (await fresh(url, 'GET', '/metrics')).text
      const fronts = [0, 1, 2].filter((f) => sample(metrics, `logagg_front_connections_total{front="${f}"}`) > 0)
      expect(fronts).toEqual(reusePortWorks() ? [0, 1, 2] : [0])
    } finally {
      child.kill('SIGKILL')
    }
  })
})
