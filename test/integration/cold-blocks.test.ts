import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, isoAt, postNdjson, readAll, startTestServer, type RunningServer } from './helpers.js'

// DATA_DIR beyond RAM: blocks in block files leave memory (HOT_WINDOW, or
// MAX_MEMORY pressure) and queries read them from disk, the same answers.

let server: RunningServer | undefined
let dir = ''
afterEach(async () => {
  await server?.close()
  server = undefined
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

const held = async (s: RunningServer): Promise<number> => {
  await Promise.all(s.router.shards.map((c) => c.stats()))
  return s.router.shards.reduce((n, c) => n + c.usage.bytes, 0)
}

/** A message that does not compress to nothing. */
const text = (i: number): string => `entry ${i} ${Math.sin(i).toString(36).repeat(6)}`

describe('cold blocks', () => {
  it('leave memory past HOT_WINDOW, are read from disk by queries, and load cold after a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'logagg-cold-'))
    const settings = { shards: 2, dataDir: dir, hotWindow: 1000, checkpointInterval: 300 }
    server = await startTestServer(settings)
    const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ service: `svc${i % 4}`, timestamp: isoAt(-60_000 + i), message: text(i) }))
    expect((await postNdjson(server.url, lines)).status).toBe(201)
    const all = await readAll(server.url, 'limit=1000')
    expect(all).toHaveLength(4000)
    const hot = await held(server)
    // A checkpoint writes the blocks, then they leave memory (their entries are a minute old).
    expect(await eventually(async () => (await held(server!)) < hot / 3, 10_000)).toBe(true)
    expect(await readAll(server.url, 'limit=1000')).toEqual(all)
    await server.close()
    server = await startTestServer(settings)
    expect(await held(server)).toBeLessThan(hot / 3)
    expect(await readAll(server.url, 'limit=1000')).toEqual(all)
  })

  it('keep the store within MAX_MEMORY while it grows past it: retention is bounded by disk', async () => {
    dir = mkdtempSync(join(tmpdir(), 'logagg-cold-'))
    const maxMemory = 512 * 1024
    server = await startTestServer({ shards: 1, dataDir: dir, maxMemory, checkpointInterval: 200 })
    const sent: string[] = []
    for (let b = 0; b < 20; b++) {
      const messages = Array.from({ length: 500 }, (_, i) => `${b * 500 + i} ${randomBytes(100).toString('hex')}`)
      const body = messages.map((message) => JSON.stringify({ service: 'big', timestamp: isoAt(0), message }))
      // A 507 (MAX_MEMORY) lasts until the next checkpoint lets blocks go cold.
      expect(await eventually(async () => {
        const res = await postNdjson(server!.url, body)
        if (res.status !== 201) expect(res.body.code).toBe('LOGAGG_ERR_STORE_FULL')
        return res.status === 201
      }, 10_000)).toBe(true)
      sent.push(...messages)
    }
    // The store (its files) is larger than MAX_MEMORY; what stays in memory is within it.
    expect(await held(server)).toBeLessThan(maxMemory)
    expect(server.router.shards[0]!.usage.disk!.bytes).toBeGreaterThan(2 * maxMemory)
    const back = (await readAll(server.url, 'service=big&limit=10000')).map((e) => e.message)
    expect(back).toEqual(sent)
  })
})
