import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ledger } from './durability-helpers.js'
import { eventually, getJson, isoAt, readAll, runMain, type Spawned } from './helpers.js'
import { NatsCluster, ownedByRendezvous, type ClusterHealth } from './nats-fixture.js'

// Cluster mode on a real nats-server (JetStream) and two real logagg
// processes: ingest answers only once JetStream acknowledged, any instance
// answers any query, a write's 2xx is seen at once by a query on the other
// instance, a request sent again with its Idempotency-Key is stored once.

const PARTITIONS = 8
let nats: NatsCluster
let a: Spawned
let b: Spawned

type Health = ClusterHealth

async function health (s: Spawned): Promise<Health> {
  return (await getJson(s.url, '/healthz')).body as Health
}

/** True once the instances' partitions are disjoint and cover them all. */
async function settled (instances: Spawned[]): Promise<boolean> {
  return ownedByRendezvous(await Promise.all(instances.map(health)), PARTITIONS)
}

async function post (s: Spawned, lines: string[], headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(`${s.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...headers }, body: lines.join('\n') + '\n' })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

const line = (service: string, message: string, offsetMs = 0): string => JSON.stringify({ service, timestamp: isoAt(offsetMs), message })

beforeAll(async () => {
  nats = await NatsCluster.start(1)
  a = await nats.instance({ CLUSTER_PARTITIONS: String(PARTITIONS) })
  b = await nats.instance({ CLUSTER_PARTITIONS: String(PARTITIONS) })
  expect(await eventually(() => settled([a, b]), 20_000)).toBe(true)
}, 60_000)

afterAll(async () => {
  await nats?.stopAll()
})

describe('cluster mode: two instances on one NATS server', () => {
  it('says in /healthz which partitions each instance owns and that NATS is connected', async () => {
    const [ha, hb] = [await health(a), await health(b)]
    expect(ha.status).toBe('ok')
    expect(ha.cluster.nats).toBe('connected')
    expect(ha.cluster.members.sort()).toEqual([ha.cluster.instance, hb.cluster.instance].sort())
    expect([...ha.cluster.owned, ...hb.cluster.owned].sort((x, y) => x - y)).toEqual(Array.from({ length: PARTITIONS }, (_, i) => i))
  })

  it('stores what one instance acknowledged and answers it from the other, merged in timestamp order', async () => {
    const services = ['api', 'web', 'db', 'auth', 'queue', 'mail']
    const lines = services.flatMap((s, i) => [line(s, `merge-${s}-1`, -3000 + i), line(s, `merge-${s}-2`, -1000 + i)])
    const res = await post(a, lines)
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ stored: lines.length })
    const got = (await readAll(b.url, 'limit=5')).filter((e) => e.message.startsWith('merge-'))
    expect(got.map((e) => e.message).sort()).toEqual(lines.map((l) => JSON.parse(l).message).sort())
    const times = got.map((e) => e.timestamp)
    expect(times).toEqual([...times].sort())
    const one = (await getJson(a.url, '/logs?service=db')).body.logs.map((e: { message: string }) => e.message)
    expect(one).toEqual(['merge-db-1', 'merge-db-2'])
  })

  it('refuses bad entries on the front with the same 400 as the single-process server, storing the good ones', async () => {
    const res = await post(b, [line('api', 'good-one'), '{"service":"api","timestamp":"yesterday","message":"x"}'])
    expect(res.status).toBe(400)
    expect(res.body.rejected[0].index).toBe(1)
    expect(res.body.stored).toBe(1)
    const logs = (await getJson(a.url, '/logs?service=api')).body.logs.map((e: { message: string }) => e.message)
    expect(logs).toContain('good-one')
  })

  it('finds a write acknowledged by one instance at once on the other, 1000 times in a row', async () => {
    const misses: number[] = []
    for (let i = 0; i < 1000; i++) {
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a]
      const service = `ryw-${i % 7}`
      const message = `ryw-${i}`
      const res = await post(writer, [line(service, message)])
      expect(res.status).toBe(201)
      const page = (await getJson(reader.url, `/logs?service=${service}&limit=1&order=desc`)).body
      if (page.logs?.[0]?.message !== message) misses.push(i)
    }
    expect(misses).toEqual([])
  }, 180_000)

  it('stores a request sent again with the same Idempotency-Key once, on either instance', async () => {
    const lines = ['api', 'web', 'db'].map((s, i) => line(s, `idem-${i}`))
    for (const s of [a, b, a]) expect((await post(s, lines, { 'idempotency-key': 'request-0001' })).status).toBe(201)
    // Without a key, a request sent twice is two requests.
    for (const s of [a, b]) expect((await post(s, [line('api', 'no-key')])).status).toBe(201)
    const all = await readAll(b.url, 'limit=1000')
    expect(all.filter((e) => e.message.startsWith('idem-')).map((e) => e.message).sort()).toEqual(['idem-0', 'idem-1', 'idem-2'])
    expect(all.filter((e) => e.message === 'no-key')).toHaveLength(2)
  })

  it('answers 400 for an Idempotency-Key it cannot use, storing nothing', async () => {
    const res = await post(a, [line('api', 'bad-key')], { 'idempotency-key': 'x'.repeat(300) })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatch(/Idempotency-Key must be 1 to 256 printable ASCII characters/)
    expect((await readAll(b.url, 'limit=1000')).some((e) => e.message === 'bad-key')).toBe(false)
  })

  it('takes Loki pushes on one instance and answers LogQL on the other', async () => {
    const ns = BigInt(Date.now()) * 1_000_000n
    const res = await fetch(`${a.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { service: 'loki-app', env: 'prod' }, values: [[String(ns), 'level=error msg=boom'], [String(ns + 1000n), 'level=info msg=fine']] }] })
    })
    expect(res.status).toBe(204)
    const q = encodeURIComponent('{service="loki-app"} |= "boom"')
    const answer = (await getJson(b.url, `/loki/api/v1/query_range?query=${q}&limit=10`)).body
    expect(answer.status).toBe('success')
    expect(answer.data.result).toHaveLength(1)
    expect(answer.data.result[0].stream).toMatchObject({ service: 'loki-app', env: 'prod' })
    expect(answer.data.result[0].values.map((v: string[]) => v[1])).toEqual(['level=error msg=boom'])
  })

  it('lists the services of every partition from any instance', async () => {
    const names = (await getJson(b.url, '/services?limit=3')).body
    expect(names.services).toHaveLength(3)
    const all: string[] = []
    let cursor: string | null = null
    for (let i = 0; i < 100; i++) {
      const page: { services: Array<{ service: string }>, next: string | null } = (await getJson(a.url, `/services?limit=4${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)).body
      all.push(...page.services.map((s) => s.service))
      cursor = page.next
      if (cursor === null) break
    }
    expect(all).toEqual([...new Set(all)].sort())
    for (const s of ['api', 'web', 'db', 'auth', 'loki-app', 'ryw-0', 'ryw-6']) expect(all).toContain(s)
  })

  it('refuses to start with another CLUSTER_PARTITIONS than the stream was made with, saying which', async () => {
    const { code, stderr } = await runMain({ NATS_URL: nats.url, CLUSTER_PARTITIONS: '16', PORT: '0', SHARDS: '1' })
    expect(code).toBe(1)
    expect(stderr).toMatch(/made with CLUSTER_PARTITIONS=8, not 16/)
  })

  it('refuses DATA_DIR with NATS_URL, and an unreachable NATS, with one line each', async () => {
    const both = await runMain({ NATS_URL: nats.url, DATA_DIR: '/tmp/nowhere', PORT: '0', SHARDS: '1' })
    expect(both.code).toBe(1)
    expect(both.stderr).toMatch(/DATA_DIR and NATS_URL cannot be set together/)
    const none = await runMain({ NATS_URL: 'nats://127.0.0.1:1', PORT: '0', SHARDS: '1' })
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/cannot reach NATS at nats:\/\/127\.0\.0\.1:1/)
  })

  it('keeps every acknowledged entry exactly once when an instance is killed and the other takes its partitions', async () => {
    const c = await nats.instance({ CLUSTER_PARTITIONS: String(PARTITIONS) })
    expect(await eventually(() => settled([a, b, c]), 20_000)).toBe(true)
    const ledger: Ledger = { sent: new Set(), acked: new Set(), statuses: new Map() }
    const services = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']
    for (let i = 0; i < 30; i++) {
      const lines = services.map((s, j) => line(s, `kill-${i}-${j}`))
      for (const l of lines) ledger.sent.add(JSON.parse(l).message)
      const res = await post([a, b, c][i % 3]!, lines)
      if (res.status === 201) for (const l of lines) ledger.acked.add(JSON.parse(l).message)
    }
    expect(ledger.acked.size).toBe(30 * services.length)
    // The instance with the most partitions goes.
    const three = [a, b, c]
    const owned = await Promise.all(three.map(async (s) => (await health(s)).cluster.owned.length))
    const victim = three[owned.indexOf(Math.max(...owned))]!
    const survivors = three.filter((s) => s !== victim)
    expect(Math.max(...owned)).toBeGreaterThan(0)
    await NatsCluster.killInstance(victim)
    expect(await eventually(() => settled(survivors), 20_000)).toBe(true)
    for (const s of survivors) {
      const seen = new Map<string, number>()
      for (const e of await readAll(s.url, 'limit=10000')) if (e.message.startsWith('kill-')) seen.set(e.message, (seen.get(e.message) ?? 0) + 1)
      expect([...ledger.acked].filter((m) => !seen.has(m))).toEqual([])
      expect([...seen].filter(([, n]) => n > 1)).toEqual([])
      expect(seen.size).toBe(ledger.acked.size)
    }
  }, 90_000)
})
