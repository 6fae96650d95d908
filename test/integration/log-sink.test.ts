import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { MAIN, isoAt, postJson, startTestServer, type RunningServer } from './helpers.js'

// Issue 18 item 12 (a dead log sink never blocks requests or shutdown) and the access log.

/** Starts main.js with stdout piped; resolves with its url once it logged "listening", readline closed. */
async function start (env: Record<string, string>): Promise<{ child: ReturnType<typeof spawn>, url: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, PORT: '0', SHARDS: '1', ...env }, stdio: ['ignore', 'pipe', 'ignore'] })
  const rl = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      const m = /"msg":"listening".*"url":"([^"]+)"|"url":"([^"]+)".*"msg":"listening"/.exec(line)
      if (m !== null) resolve(m[1] ?? m[2]!)
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)))
  })
  rl.close()
  return { child, url }
}

/** SIGTERM, then the ms until exit (the test's own bound: 8 s, then SIGKILL and a failure). */
async function stopMs (child: ReturnType<typeof spawn>): Promise<{ code: number | null, ms: number }> {
  const started = Date.now()
  child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), 8000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(killer)
  return { code, ms: Date.now() - started }
}

const many = async (url: string, n: number): Promise<number[]> => {
  const statuses: number[] = []
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/healthz?pad=${'p'.repeat(200)}`, { signal: AbortSignal.timeout(5000) })
    await res.arrayBuffer()
    statuses.push(res.status)
  }
  return statuses
}

describe('a dead log sink', () => {
  it('a stdout pipe nobody reads (full): requests are served and SIGTERM exits at once', async () => {
    const { child, url } = await start({ ACCESS_LOG: 'on' })
    child.stdout!.pause()
    // About 1000 access-log lines of ~400 bytes: several times a pipe's 64 KiB.
    expect(new Set(await many(url, 1000))).toEqual(new Set([200]))
    expect((await postJson(url, { service: 'sink', timestamp: isoAt(0), message: 'm' })).status).toBe(201)
    const { code, ms } = await stopMs(child)
    expect(code).toBe(0)
    expect(ms).toBeLessThan(4000)
  })

  it('a stdout pipe closed by its reader (EPIPE): requests are served and SIGTERM exits at once', async () => {
    const { child, url } = await start({ ACCESS_LOG: 'on' })
    child.stdout!.destroy()
    expect(new Set(await many(url, 200))).toEqual(new Set([200]))
    expect((await postJson(url, { service: 'sink', timestamp: isoAt(0), message: 'm' })).status).toBe(201)
    const { code, ms } = await stopMs(child)
    expect(code).toBe(0)
    expect(ms).toBeLessThan(4000)
  })
})

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('ACCESS_LOG', () => {
  it('logs one line per request with method, route, path without query, status, bytes, ms and the refusal code', async () => {
    const lines: string[] = []
    server = await startTestServer({ shards: 1, accessLog: true }, lines)
    expect((await postJson(server.url, { service: 'acc', timestamp: isoAt(0), message: 'm' })).status).toBe(201)
    expect((await fetch(`${server.url}/loki/api/v1/label/service/values?secret=x`)).status).toBe(200)
    expect((await fetch(`${server.url}/logs?limit=0`)).status).toBe(400)
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === 'request')
    expect(records).toHaveLength(3)
    expect(records[0]).toMatchObject({ method: 'POST', route: '/logs', path: '/logs', status: 201 })
    expect(records[1]).toMatchObject({ method: 'GET', route: '/loki/api/v1/label/:name/values', path: '/loki/api/v1/label/service/values', status: 200 })
    expect(records[2]).toMatchObject({ method: 'GET', route: '/logs', path: '/logs', status: 400, code: 'LOGAGG_ERR_BAD_QUERY' })
    for (const r of records) {
      expect(r.bytes).toBeGreaterThan(50)
      expect(r.ms).toBeGreaterThanOrEqual(0)
      expect(JSON.stringify(r)).not.toContain('secret')
    }
    expect(records[0]).not.toHaveProperty('code')
  })

  it('logs nothing per request when off (the default)', async () => {
    const lines: string[] = []
    server = await startTestServer({ shards: 1 }, lines)
    expect((await postJson(server.url, { service: 'acc', timestamp: isoAt(0), message: 'm' })).status).toBe(201)
    expect(lines.filter((l) => l.includes('"msg":"request"'))).toEqual([])
  })
})
