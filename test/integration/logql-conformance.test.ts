import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type RunningServer } from './helpers.js'

// How much of LogQL this server runs, measured against Loki's own parser
// tests: the query strings of grafana/loki's ParseTestCases (stored in
// test/data/loki-parser-cases.json with their source; Loki's code is not
// copied) sent to the real sharded server's query_range. Of the queries Loki
// accepts, the share this server executes (200); of those Loki refuses, the
// share it refuses (400, never a 5xx). The figures are printed and go into
// the README; the floors below are today's, so a change that runs fewer
// queries, or starts accepting one Loki refuses, fails here.

/** `queryHex`: the query's bytes where they are not UTF-8 (a Go string holds bytes); `query` then shows them as U+FFFD. */
interface Case { query: string, lokiValid: boolean, queryHex?: string }
const { cases } = JSON.parse(readFileSync(new URL('../data/loki-parser-cases.json', import.meta.url), 'utf8')) as { cases: Case[] }

/** Share of Loki-valid queries executed today (111 of 155): raise it as LogQL grows, never lower it. */
const EXECUTED_FLOOR = 111 / 155

let server: RunningServer
beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  // Something for the queries to find: lines, JSON and logfmt, with labels the cases use.
  const now = Date.now() * 1e6
  const values = (k: number): Array<[string, string]> => [
    [String(now - 60e9 + k), 'level=error foo=bar duration=12ms status=500 msg="it broke"'],
    [String(now - 30e9 + k), JSON.stringify({ level: 'info', foo: 'bar', latency: 0.25, status: 200 })]
  ]
  const streams = [
    { stream: { service: 'api', foo: 'bar', app: 'foo', namespace: 'buzz' }, values: values(1) },
    { stream: { service: 'web', foo: 'baz', bar: 'foo' }, values: values(2) }
  ]
  const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams }) })
  expect(res.status).toBe(204)
})
afterAll(async () => { await server.close() })

async function run (c: Case): Promise<{ status: number, body: string }> {
  const end = Date.now() * 1e6
  const params = new URLSearchParams({ start: String(end - 3600e9), end: String(end), step: '60', limit: '100' })
  const query = c.queryHex === undefined
    ? encodeURIComponent(c.query)
    : c.queryHex.replace(/../g, '%$&')
  const res = await fetch(`${server.url}/loki/api/v1/query_range?query=${query}&${params.toString()}`)
  return { status: res.status, body: await res.text() }
}

describe("LogQL against Loki's parser tests", () => {
  it('refuses every query Loki refuses, runs a measured share of those it accepts, and never answers 5xx', async () => {
    const valid = cases.filter((c) => c.lokiValid)
    const invalid = cases.filter((c) => !c.lokiValid)
    const executed: string[] = []
    const refusedValid: Array<[string, string]> = []
    const acceptedInvalid: string[] = []
    for (const c of cases) {
      const { status, body } = await run(c)
      expect(status, `${c.query} → ${status} ${body.slice(0, 200)}`).toBeLessThan(500)
      if (c.lokiValid) {
        if (status === 200) executed.push(c.query)
        else refusedValid.push([c.query, body.slice(0, 160)])
      } else if (status === 200) {
        acceptedInvalid.push(c.query)
      } else {
        expect(status).toBe(400)
      }
    }
    const share = executed.length / valid.length
    console.log(`LogQL conformance: ${executed.length} of ${valid.length} Loki-valid queries executed (${(100 * share).toFixed(1)}%); ` +
      `${invalid.length - acceptedInvalid.length} of ${invalid.length} Loki-invalid refused`)
    if (process.env.LOGQL_CONFORMANCE_VERBOSE !== undefined) for (const [q, why] of refusedValid) console.log(`  refused: ${q}\n    ${why}`)
    for (const q of acceptedInvalid) console.log(`  accepted, Loki refuses: ${q}`)
    expect(acceptedInvalid).toEqual([])
    expect(share).toBeGreaterThanOrEqual(EXECUTED_FLOOR)
  }, 120_000)
})
