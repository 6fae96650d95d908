import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isoAt, postJson, readAll, startTestServer, type RunningServer } from './helpers.js'

let server: RunningServer

beforeAll(async () => { server = await startTestServer({ shards: 4 }) })
afterAll(async () => { await server.close() })

describe('concurrent ingest', () => {
  it('loses nothing with 32 concurrent clients × 50 posts each', async () => {
    const CLIENTS = 32
    const POSTS = 50
    const client = async (c: number): Promise<number[]> => {
      const statuses: number[] = []
      for (let i = 0; i < POSTS; i++) {
        const res = await postJson(server.url, {
          service: `conc-${c % 8}`,
          timestamp: isoAt(-((c * POSTS + i) % 997), i),
          message: `c${c}-i${i}`
        })
        statuses.push(res.status)
      }
      return statuses
    }
    const statuses = (await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))).flat()
    expect(statuses.filter((s) => s !== 201)).toEqual([])

    const stored = await readAll(server.url, Array.from({ length: 8 }, (_, i) => `service=conc-${i}`).join('&') + '&limit=500')
    expect(stored).toHaveLength(CLIENTS * POSTS)
    const expected = new Set<string>()
    for (let c = 0; c < CLIENTS; c++) for (let i = 0; i < POSTS; i++) expected.add(`c${c}-i${i}`)
    expect(new Set(stored.map((e) => e.message))).toEqual(expected)
    expect(stored.every((e, i) => i === 0 || stored[i - 1]!.timestamp <= e.timestamp)).toBe(true)
  })
})
