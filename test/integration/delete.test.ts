import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { eventually, startTestServer, type RunningServer } from './helpers.js'

// Loki's delete API against the real server, MULTI_TENANT on and DATA_DIR:
// a request waits DELETE_CANCEL_PERIOD (cancelable, listed as received),
// then the shards stop reading its entries while ingest goes on; other
// tenants and streams are untouched; after a restart the entries stay deleted.

const dir = mkdtempSync(join(tmpdir(), 'logagg-delete-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const org = (tenant: string): Record<string, string> => ({ 'x-scope-orgid': tenant })
const settings = { shards: 2, multiTenant: true, dataDir: join(dir, 'data'), deleteCancelPeriod: 1500, checkpointInterval: 200 }
const base = Date.now()
const MINUTES = [5, 4, 3, 2, 1]

async function post (url: string, tenant: string, service: string): Promise<void> {
  const body = MINUTES.map((m) => JSON.stringify({ service, timestamp: new Date(base - m * 60_000).toISOString(), message: `${m}m` })).join('\n')
  const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...org(tenant) }, body })
  expect(res.status).toBe(201)
}

async function messages (url: string, tenant: string, service: string): Promise<string[]> {
  const res = await fetch(`${url}/logs?service=${service}&start=${encodeURIComponent(new Date(base - 600_000).toISOString())}`, { headers: org(tenant) })
  expect(res.status).toBe(200)
  return ((await res.json()) as { logs: Array<{ message: string }> }).logs.map((l) => l.message)
}

async function list (url: string, tenant: string): Promise<Array<{ request_id: string, status: string, query: string, start_time: number, end_time: number }>> {
  const res = await fetch(`${url}/loki/api/v1/delete`, { headers: org(tenant) })
  expect(res.status).toBe(200)
  return await res.json() as Array<{ request_id: string, status: string, query: string, start_time: number, end_time: number }>
}

const del = async (url: string, tenant: string, params: Record<string, string>, method = 'POST'): Promise<Response> =>
  await fetch(`${url}/loki/api/v1/delete?${new URLSearchParams(params).toString()}`, { method, headers: org(tenant) })

describe('POST, GET and DELETE /loki/api/v1/delete', () => {
  it('lists a request, cancels it while pending, then deletes what a processed one covers, and keeps it deleted after a restart', async () => {
    let server: RunningServer = await startTestServer(settings)
    try {
      const url = server.url
      await post(url, 'd-a', 'api')
      await post(url, 'd-a', 'web')
      await post(url, 'd-b', 'api')
      // From 10 minutes ago to 2.5 minutes ago: the 5m, 4m and 3m entries of d-a's api.
      const start = String((base - 600_000) / 1000)
      const end = String((base - 150_000) / 1000)
      expect((await del(url, 'd-a', { query: '{service="api"}', start, end })).status).toBe(204)
      // One to cancel before it is processed.
      expect((await del(url, 'd-a', { query: '{service="web"}', start, end })).status).toBe(204)
      const pending = await list(url, 'd-a')
      expect(pending.map((r) => [r.query, r.status])).toEqual([['{service="api"}', 'received'], ['{service="web"}', 'received']])
      expect(pending[0]!.start_time).toBeCloseTo((base - 600_000) / 1000, 3)
      expect(pending[0]!.end_time).toBeCloseTo((base - 150_000) / 1000, 3)
      expect(await list(url, 'd-b')).toEqual([])
      const web = pending[1]!.request_id
      expect((await del(url, 'd-a', { request_id: web }, 'DELETE')).status).toBe(204)
      expect((await del(url, 'd-a', { request_id: web }, 'DELETE')).status).toBe(404)
      // Another tenant cannot cancel d-a's request.
      expect((await del(url, 'd-b', { request_id: pending[0]!.request_id }, 'DELETE')).status).toBe(404)
      // Nothing is deleted while the request is pending.
      expect(await messages(url, 'd-a', 'api')).toEqual(['5m', '4m', '3m', '2m', '1m'])

      // Ingest goes on while the request is processed.
      const state = { running: true }
      const failures: number[] = []
      const traffic = (async () => {
        for (let i = 0; state.running && i < 5000; i++) {
          const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', ...org('d-a') }, body: JSON.stringify({ service: 'during', timestamp: new Date().toISOString(), message: `n${i}` }) })
          if (res.status !== 201) failures.push(res.status)
        }
      })()
      try {
        expect(await eventually(async () => (await list(url, 'd-a'))[0]?.status === 'processed', 10_000)).toBe(true)
        expect(await eventually(async () => (await messages(url, 'd-a', 'api')).length === 2, 5000)).toBe(true)
      } finally {
        state.running = false
        await traffic
      }
      expect(failures).toEqual([])
      expect(await messages(url, 'd-a', 'api')).toEqual(['2m', '1m'])
      expect(await messages(url, 'd-a', 'web')).toEqual(['5m', '4m', '3m', '2m', '1m'])
      expect(await messages(url, 'd-b', 'api')).toEqual(['5m', '4m', '3m', '2m', '1m'])
      // Metric queries do not count deleted entries either.
      const count = await fetch(`${url}/loki/api/v1/query?query=${encodeURIComponent('sum(count_over_time({service="api"}[10m]))')}&time=${base / 1000}`, { headers: org('d-a') })
      expect(((await count.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]!.value[1]).toBe('2')
      // A processed request can no longer be cancelled.
      const late = await del(url, 'd-a', { request_id: pending[0]!.request_id }, 'DELETE')
      expect(late.status).toBe(400)
      expect(await late.text()).toContain('processed already')
      await server.close()
      server = await startTestServer(settings)
      expect(await messages(server.url, 'd-a', 'api')).toEqual(['2m', '1m'])
      expect(await messages(server.url, 'd-b', 'api')).toEqual(['5m', '4m', '3m', '2m', '1m'])
      expect((await list(server.url, 'd-a')).map((r) => r.status)).toEqual(['processed'])
    } finally {
      await server.close()
    }
  })

  it('refuses what it cannot take, in Loki\'s error shape', async () => {
    const server = await startTestServer({ shards: 1, multiTenant: true })
    try {
      const url = server.url
      expect((await del(url, 'x', { start: '0' })).status).toBe(400)
      const filters = await del(url, 'x', { query: '{service="a"} |= "b"', start: '0' })
      expect(filters.status).toBe(400)
      expect(await filters.text()).toContain('stream selector alone')
      expect((await del(url, 'x', { query: '{service="a"}' })).status).toBe(400)
      expect((await del(url, 'x', { query: '{service="a"}', start: '100', end: '50' })).status).toBe(400)
      expect((await del(url, 'x', {}, 'DELETE')).status).toBe(400)
      const noOrg = await fetch(`${url}/loki/api/v1/delete`)
      expect(noOrg.status).toBe(401)
      expect(await noOrg.text()).toContain('no org id')
    } finally {
      await server.close()
    }
  })
})
