import { afterEach, describe, expect, it } from 'vitest'
import { eventually, getJson, isoAt, kTestInternals, startFixtureServer, type LogLine, type RunningServer, type Spawned } from './helpers.js'
import { NatsCluster, ownedByRendezvous, type ClusterHealth } from './nats-fixture.js'

// Cluster mode when things fail, on real nats-server and logagg processes:
// NATS going away (the servers an instance knows are stopped: this machine
// has no network namespaces set up for the tests, so stopping the servers is
// the partition), and a three-server NATS cluster losing a server and a
// logagg instance to kill -9 in the middle of the load. Writers retry a 503
// with the same Idempotency-Key, as a shipper retries; every entry
// acknowledged is read back exactly once from every surviving instance.

const PARTITIONS = 8
let nats: NatsCluster | undefined

afterEach(async () => {
  await nats?.stopAll()
  nats = undefined
})

type Health = ClusterHealth
const health = async (s: Spawned): Promise<Health> => (await getJson(s.url, '/healthz')).body as Health

/** The last healths settled() read, for a failure's message. */
let lastSeen = ''

async function settled (instances: Spawned[]): Promise<boolean> {
  try {
    const healths = await Promise.all(instances.map(health))
    lastSeen = JSON.stringify(healths)
    return ownedByRendezvous(healths, PARTITIONS)
  } catch {
    return false
  }
}

const line = (service: string, message: string): string => JSON.stringify({ service, timestamp: isoAt(0), message })

/** Every entry whose message starts with `prefix`, read by cursor from `s`; retried (a 503 mid-takeover) until `ms` pass. */
async function readBack (s: Spawned, prefix: string, ms = 60_000): Promise<Map<string, number>> {
  const until = Date.now() + ms
  let last = ''
  while (Date.now() < until) {
    const seen = new Map<string, number>()
    let cursor: string | null = null
    let ok = true
    for (let pages = 0; pages < 1000; pages++) {
      const res = await fetch(`${s.url}/logs?limit=5000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`).catch(() => null)
      if (res === null || res.status !== 200) {
        last = res === null ? 'connection failed' : `${res.status} ${await res.text()}`
        ok = false
        break
      }
      const page = await res.json() as { logs: LogLine[], next: string | null }
      for (const e of page.logs) if (e.message.startsWith(prefix)) seen.set(e.message, (seen.get(e.message) ?? 0) + 1)
      cursor = page.next
      if (cursor === null) return seen
    }
    if (ok) throw new Error('paging did not end')
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`could not read back from ${s.url} within ${ms} ms: ${last}`)
}

function expectExactlyOnce (seen: Map<string, number>, acked: Set<string>, sent: Set<string>): void {
  expect([...acked].filter((m) => !seen.has(m)).slice(0, 10)).toEqual([])
  expect([...seen].filter(([, n]) => n > 1).slice(0, 10)).toEqual([])
  expect([...seen.keys()].filter((m) => !sent.has(m)).slice(0, 10)).toEqual([])
}

describe('cluster mode: NATS away', () => {
  it('answers 503 with Retry-After in each protocol\'s shape, gives its partitions up, and loses nothing it acknowledged', async () => {
    nats = await NatsCluster.start(1)
    const a = await nats.instance({ CLUSTER_PARTITIONS: String(PARTITIONS) })
    expect(await eventually(() => settled([a]), 20_000)).toBe(true)
    const sent = new Set<string>()
    const acked = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const lines = ['api', 'web', 'db', 'auth'].map((s) => line(s, `away-${i}-${s}`))
      for (const l of lines) sent.add(JSON.parse(l).message)
      const res = await fetch(`${a.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
      expect(res.status).toBe(201)
      for (const l of lines) acked.add(JSON.parse(l).message)
    }

    await nats.kill(0)
    const refused = await fetch(`${a.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: line('api', 'away-refused') })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    const body = await refused.json() as { error: string, code: string }
    expect(body.code).toBe('LOGAGG_ERR_CLUSTER_UNAVAILABLE')
    expect(body.error).toMatch(/NATS is unreachable or has no quorum, and nothing of this request is acknowledged/)
    sent.add('away-refused')
    const loki = await fetch(`${a.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { service: 'api' }, values: [[String(BigInt(Date.now()) * 1_000_000n), 'away-loki']] }] })
    })
    expect(loki.status).toBe(503)
    expect(loki.headers.get('retry-after')).toBe('1')
    expect(loki.headers.get('logagg-error-code')).toBe('LOGAGG_ERR_CLUSTER_UNAVAILABLE')
    expect(await loki.text()).toMatch(/nothing of this request is acknowledged/)
    sent.add('away-loki')
    const query = await fetch(`${a.url}/logs?service=api`)
    expect(query.status).toBe(503)
    expect(query.headers.get('retry-after')).toBe('1')
    // /healthz says so, and once the lease timeout is near the instance gives its partitions up.
    expect(await eventually(async () => {
      const h = await getJson(a.url, '/healthz')
      return h.status === 503 && (h.body as Health).cluster.nats === 'disconnected' && (h.body as Health).cluster.owned.length === 0
    }, 15_000)).toBe(true)

    await nats.restart(0)
    expect(await eventually(() => settled([a]), 30_000)).toBe(true)
    const seen = await readBack(a, 'away-')
    expectExactlyOnce(seen, acked, sent)
    expect(seen.size).toBeGreaterThanOrEqual(acked.size)
    // Ingest works again.
    const again = await fetch(`${a.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: line('api', 'away-again') })
    expect(again.status).toBe(201)
  }, 120_000)
})

describe('cluster mode: three NATS servers (R3), three instances, kill -9 of one of each mid-load', () => {
  it('keeps every acknowledged entry exactly once on every survivor, and a restarted instance rejoins', async () => {
    nats = await NatsCluster.start(3)
    const env = { CLUSTER_PARTITIONS: String(PARTITIONS), QUERY_TIMEOUT: '20s' }
    const instances = [await nats.instance(env), await nats.instance(env), await nats.instance(env)]
    expect(await eventually(() => settled(instances), 30_000), lastSeen).toBe(true)
    const live = new Set(instances)
    const sent = new Set<string>()
    const acked = new Set<string>()
    const statuses = new Map<string, number>()
    const load = { stopping: false }
    const services = ['api', 'web', 'db', 'auth', 'queue', 'mail', 'pay', 'search']
    const writer = async (w: number): Promise<void> => {
      for (let b = 0; !load.stopping && b < 10_000; b++) {
        const messages = Array.from({ length: 20 }, (_, i) => `r3-w${w}-b${b}-${i}`)
        const body = messages.map((m, i) => line(services[(w + i) % services.length]!, m)).join('\n')
        for (const m of messages) sent.add(m)
        // A shipper's retry: the same body and key, to whichever instance is up, until a 2xx.
        for (let attempt = 0; attempt < 60; attempt++) {
          const targets = [...live]
          const to = targets[(w + attempt) % targets.length]!
          const res = await fetch(`${to.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': `w${w}-b${b}` }, body }).catch(() => null)
          const status = res === null ? 'error' : String(res.status)
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          if (res !== null) await res.arrayBuffer()
          if (res !== null && res.status === 201) {
            for (const m of messages) acked.add(m)
            break
          }
          await new Promise((resolve) => setTimeout(resolve, res === null ? 50 : 500))
        }
      }
    }
    const writers = [0, 1, 2, 3].map((w) => writer(w))
    const until = async (n: number): Promise<void> => { await eventually(() => acked.size >= n, 60_000) }
    await until(400)
    const victim = instances[2]!
    live.delete(victim)
    await Promise.all([nats.kill(1), NatsCluster.killInstance(victim)])
    const atKill = acked.size
    await until(atKill + 800)
    load.stopping = true
    await Promise.all(writers)
    expect(acked.size).toBeGreaterThan(atKill)

    const survivors = instances.slice(0, 2)
    expect(await eventually(() => settled(survivors), 30_000), lastSeen).toBe(true)
    for (const s of survivors) expectExactlyOnce(await readBack(s, 'r3-'), acked, sent)

    // A restarted instance rejoins, takes partitions back and answers the same.
    const back = await nats.instance(env)
    expect(await eventually(() => settled([...survivors, back]), 30_000), lastSeen).toBe(true)
    expect((await health(back)).cluster.owned.length).toBeGreaterThan(0)
    for (const s of [...survivors, back]) expectExactlyOnce(await readBack(s, 'r3-'), acked, sent)
  }, 240_000)
})

describe('cluster mode: partial=true', () => {
  it('answers without the partitions of an instance that is gone, naming them in Logagg-Partial; without it, a 503', async () => {
    const { shardOf } = await import('../../src/core/hash.js')
    nats = await NatsCluster.start(1)
    // A lease far longer than the queries: nobody takes the dead instance's partitions meanwhile.
    const env = { CLUSTER_PARTITIONS: String(PARTITIONS), CLUSTER_LEASE_TIMEOUT: '60s', QUERY_TIMEOUT: '4s' }
    const a = await nats.instance(env)
    const b = await nats.instance(env)
    expect(await eventually(() => settled([a, b]), 20_000), lastSeen).toBe(true)
    const services = Array.from({ length: 24 }, (_, i) => `svc-${i}`)
    const res = await fetch(`${a.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: services.map((s) => line(s, `partial-${s}`)).join('\n') })
    expect(res.status).toBe(201)
    // The instance with more partitions goes (rendezvous hashing gives each at least one in almost every draw, not in every one).
    const [ha, hb] = [await health(a), await health(b)]
    const [victim, survivor] = ha.cluster.owned.length >= hb.cluster.owned.length ? [a, b] : [b, a]
    const gone = (victim === a ? ha : hb).cluster.owned
    await NatsCluster.killInstance(victim)

    const whole = await fetch(`${survivor.url}/logs?limit=100`)
    expect(whole.status).toBe(503)
    expect(whole.headers.get('retry-after')).toBe('1')
    await whole.arrayBuffer()

    const part = await fetch(`${survivor.url}/logs?limit=100&partial=true`)
    expect(part.status).toBe(200)
    expect(part.headers.get('logagg-partial')).toBe(gone.join(','))
    const logs = ((await part.json()) as { logs: LogLine[] }).logs.map((e) => e.message).sort()
    expect(logs).toEqual(services.filter((s) => !gone.includes(shardOf(s, PARTITIONS))).map((s) => `partial-${s}`).sort())

    const bad = await fetch(`${survivor.url}/logs?partial=maybe`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toBe('partial must be true or false')
  }, 90_000)
})

describe('cluster mode: a shard worker dies', () => {
  it('gives every partition up to the others and goes on as a front; every acknowledged entry is read back exactly once', async () => {
    nats = await NatsCluster.start(1)
    let a: RunningServer | undefined
    try {
      a = await startFixtureServer({ natsUrl: nats.url, clusterPartitions: PARTITIONS, natsReplicas: 1, clusterLeaseTimeout: 2000 })
      const b = await nats.instance({ CLUSTER_PARTITIONS: String(PARTITIONS) })
      const front = { url: a.url } as Spawned
      expect(await eventually(() => settled([front, b]), 20_000), lastSeen).toBe(true)
      const sent = new Set<string>()
      for (let i = 0; i < 10; i++) {
        const lines = ['api', 'web', 'db', 'auth', 'queue', 'mail'].map((s) => line(s, `crash-${i}-${s}`))
        const res = await fetch(`${a.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
        expect(res.status).toBe(201)
        for (const l of lines) sent.add(JSON.parse(l).message)
      }
      await a[kTestInternals].workers[0]!.sendRaw({ type: 'crash' }).catch(() => {})
      expect(await eventually(async () => {
        const h = await getJson(a!.url, '/healthz')
        return h.status === 503 && (h.body as Health & { cluster: { retired: string | null } }).cluster.retired !== null && (h.body as Health).cluster.owned.length === 0
      }, 15_000)).toBe(true)
      expect(await eventually(async () => (await health(b)).cluster.owned.length === PARTITIONS, 15_000)).toBe(true)
      // Still a front: it takes writes and answers queries through the other instance.
      const more = await fetch(`${a.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: line('api', 'crash-after') })
      expect(more.status).toBe(201)
      sent.add('crash-after')
      for (const s of [front, b]) expectExactlyOnce(await readBack(s, 'crash-'), sent, sent)
    } finally {
      await a?.close()
    }
  }, 90_000)
})
