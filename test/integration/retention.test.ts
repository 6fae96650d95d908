import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { eventually, startTestServer, type RunningServer } from './helpers.js'

// Retention per tenant and per stream (LIMITS_FILE's retention_period and
// retention_stream, Loki's rules and precedence: the matching rule of the
// highest priority, of equal ones the shortest period, else the tenant's
// retention_period, else RETENTION), applied by the shards' purge, in memory
// and in DATA_DIR across a restart. Short periods and a short PURGE_INTERVAL
// stand in for days: entries are written with timestamps in the past, each
// age in a time slot of its own (5 minutes), so a purge can drop it alone.

const dir = mkdtempSync(join(tmpdir(), 'logagg-retention-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const LIMITS = `overrides:
  t-ret:
    retention_period: 30m
    retention_stream:
      - selector: '{service="debug"}'
        priority: 1
        period: 10m
      - selector: '{service="debug"}'
        priority: 1
        period: 15m
      - selector: '{env="prod"}'
        priority: 2
        period: 20m
`
const AGES_MIN = [40, 12, 0.5]
const org = (tenant: string): Record<string, string> => ({ 'x-scope-orgid': tenant })

async function push (url: string, tenant: string, stream: Record<string, string>): Promise<void> {
  const values = AGES_MIN.map((m) => [`${Math.round(Date.now() - m * 60_000)}000000`, `${m}m`])
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json', ...org(tenant) }, body: JSON.stringify({ streams: [{ stream, values }] }) })
  expect(res.status).toBe(204)
}

/** The ages (as written) left of a stream, oldest first. */
async function ages (url: string, tenant: string, selector: string): Promise<string[]> {
  const q = `/loki/api/v1/query_range?query=${encodeURIComponent(selector)}&start=${Date.now() - 3_600_000}000000&limit=100&direction=forward`
  const res = await fetch(`${url}${q}`, { headers: org(tenant) })
  expect(res.status).toBe(200)
  const body = await res.json() as { data: { result: Array<{ values: string[][] }> } }
  return body.data.result.flatMap((r) => r.values).sort((a, b) => Number(a[0]) - Number(b[0])).map((v) => v[1]!)
}

describe('retention_period and retention_stream', () => {
  it('each stream keeps what its rule says, the highest priority and then the shortest period winning; a rule change applies at the next purge', async () => {
    const file = join(dir, 'memory.yaml')
    writeFileSync(file, LIMITS)
    const server: RunningServer = await startTestServer({ shards: 2, multiTenant: true, limitsFile: file, retention: 3_600_000, purgeInterval: 200 })
    try {
      const url = server.url
      await push(url, 't-ret', { service: 'debug' })
      await push(url, 't-ret', { service: 'debug', env: 'prod' })
      await push(url, 't-ret', { service: 'other' })
      await push(url, 't-none', { service: 'debug' })
      const expected: Record<string, string[]> = {
        // Two rules of priority 1 match: the shorter, 10m, wins.
        '{service="debug", env!="prod"}': ['0.5m'],
        // The priority 2 rule wins over both: 20m.
        '{service="debug", env="prod"}': ['12m', '0.5m'],
        // No rule: the tenant's retention_period, 30m.
        '{service="other"}': ['12m', '0.5m']
      }
      const settled = async (): Promise<boolean> => {
        for (const [selector, want] of Object.entries(expected)) if (JSON.stringify(await ages(url, 't-ret', selector)) !== JSON.stringify(want)) return false
        return true
      }
      expect(await eventually(settled, 10_000)).toBe(true)
      for (const [selector, want] of Object.entries(expected)) expect(await ages(url, 't-ret', selector), selector).toEqual(want)
      // Another tenant, without limits of its own: RETENTION (1h) keeps everything.
      expect(await ages(url, 't-none', '{service="debug"}')).toEqual(['40m', '12m', '0.5m'])
      const metrics = await (await fetch(`${url}/metrics`)).text()
      const purged = (rule: string): number => {
        let n = 0
        for (const line of metrics.split('\n')) if (line.startsWith('logagg_retention_purged_entries_total{') && line.includes('tenant="t-ret"') && line.includes(`rule="${rule}"`)) n += Number(line.split(' ').pop())
        return n
      }
      expect(purged('retention_stream {service=\\"debug\\"}')).toBe(2)
      expect(purged('retention_stream {env=\\"prod\\"}')).toBe(1)
      expect(purged('retention_period')).toBe(1)
      // t-none gets 20m from now on: its 40m entry goes at the next purge.
      writeFileSync(file, `${LIMITS}  t-none:\n    retention_period: 20m\n`)
      expect(await eventually(async () => JSON.stringify(await ages(url, 't-none', '{service="debug"}')) === '["12m","0.5m"]', 10_000)).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('with DATA_DIR, what a rule purged does not come back after a restart', async () => {
    const file = join(dir, 'disk.yaml')
    writeFileSync(file, LIMITS)
    const dataDir = join(dir, 'data')
    // Checkpoints well before the first purge: the old blocks are in block files when they are purged.
    const settings = { shards: 2, multiTenant: true, limitsFile: file, retention: 3_600_000, dataDir, checkpointInterval: 100, purgeInterval: 1500 }
    const first = await startTestServer(settings)
    try {
      await push(first.url, 't-ret', { service: 'debug' })
      await push(first.url, 't-ret', { service: 'other' })
      // The two streams may live on two shards, each purging on its own timer: wait for both.
      expect(await eventually(async () => JSON.stringify(await ages(first.url, 't-ret', '{service="debug"}')) === '["0.5m"]', 10_000)).toBe(true)
      expect(await eventually(async () => JSON.stringify(await ages(first.url, 't-ret', '{service="other"}')) === '["12m","0.5m"]', 10_000)).toBe(true)
    } finally {
      await first.close()
    }
    const again = await startTestServer(settings)
    try {
      expect(await ages(again.url, 't-ret', '{service="debug"}')).toEqual(['0.5m'])
      expect(await ages(again.url, 't-ret', '{service="other"}')).toEqual(['12m', '0.5m'])
    } finally {
      await again.close()
    }
  })
})
