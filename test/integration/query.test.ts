import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shardOf } from '../../src/core/hash.js'
import { getJson, isoAt, postJson, postNdjson, readAll, startTestServer, type LogLine, type RunningServer } from './helpers.js'

const SHARDS = 4
let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: SHARDS })
  url = server.url
})
afterAll(async () => { await server.close() })

/** `n` service names with the given prefix that land on `n` different shards. */
function servicesOnDistinctShards (prefix: string, n: number): string[] {
  const byShard = new Map<number, string>()
  for (let i = 0; byShard.size < n && i < 10_000; i++) {
    const name = `${prefix}-${i}`
    if (!byShard.has(shardOf(name, SHARDS))) byShard.set(shardOf(name, SHARDS), name)
  }
  return [...byShard.values()]
}

const isSorted = (logs: LogLine[], desc = false): boolean =>
  logs.every((e, i) => i === 0 || (desc ? logs[i - 1]!.timestamp >= e.timestamp : logs[i - 1]!.timestamp <= e.timestamp))

describe('GET /logs', () => {
  it('returns out-of-order posts sorted by timestamp', async () => {
    const offsets = [-500, -100, -900, -300, -700, -200]
    // Times from one instant, so how long each post takes cannot reorder them.
    const base = Date.now()
    for (const off of offsets) {
      expect((await postJson(url, { service: 'ooo', timestamp: new Date(base + off).toISOString(), message: `at ${off}` })).status).toBe(201)
    }
    const { body } = await getJson(url, '/logs?service=ooo')
    expect(body.logs.map((e: LogLine) => e.message)).toEqual([...offsets].sort((a, b) => a - b).map((o) => `at ${o}`))
    expect(body.next).toBeNull()
  })

  it('merges services held by different shards in timestamp order', async () => {
    const services = servicesOnDistinctShards('merge', SHARDS)
    expect(new Set(services.map((s) => shardOf(s, SHARDS))).size).toBe(SHARDS)
    const entries = Array.from({ length: 200 }, (_, i) => ({
      service: services[i % services.length]!,
      timestamp: isoAt(-((i * 7919) % 5000), i % 1000),
      message: `e${i}`
    }))
    expect((await postJson(url, entries)).status).toBe(201)
    const q = services.map((s) => `service=${s}`).join('&')
    const { body } = await getJson(url, `/logs?${q}`)
    expect(body.logs).toHaveLength(200)
    expect(isSorted(body.logs)).toBe(true)
    expect(new Set(body.logs.map((e: LogLine) => e.service))).toEqual(new Set(services))
  })

  it('says where the time went in a Server-Timing header: the hop to the slowest shard, its wall and run time, the merge', async () => {
    const [a, b] = servicesOnDistinctShards('timing', 2)
    const at = new Date().toISOString()
    expect((await postNdjson(url, [a!, b!].map((service) => JSON.stringify({ service, timestamp: at, message: 'timed' })))).status).toBe(201)
    for (const path of [`/logs?service=${a!}`, `/logs?service=${a!}&service=${b!}&format=ndjson`]) {
      const res = await fetch(`${url}${path}`)
      await res.text()
      const header = res.headers.get('server-timing') ?? ''
      const dur = Object.fromEntries([...header.matchAll(/(\w+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]))
      expect(Object.keys(dur)).toEqual(['hop', 'shard', 'merge'])
      for (const v of Object.values(dur)) expect(v).toBeGreaterThanOrEqual(0)
      const run = Number(/desc="run ([\d.]+) ms"/.exec(header)?.[1])
      expect(run).toBeGreaterThan(0)
      expect(run).toBeLessThanOrEqual(dur.shard! + 0.01)
    }
  })

  it('keeps arrival order for equal timestamps, across shards too', async () => {
    const services = servicesOnDistinctShards('tie', 3)
    const ts = isoAt(-50, 7)
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ service: services[i % 3], timestamp: ts, message: `tie ${i}` }))
    expect((await postNdjson(url, lines)).status).toBe(201)
    const q = services.map((s) => `service=${s}`).join('&')
    const asc: string[] = (await getJson(url, `/logs?${q}`)).body.logs.map((e: LogLine) => e.message)
    const sent = Array.from({ length: 30 }, (_, i) => `tie ${i}`)
    if (process.env.LOGAGG_TEST_CLUSTER === '1') {
      // Cluster mode (README, Cluster): arrival order within each service's partition; across
      // partitions, equal timestamps follow the order JetStream stored the partitions' messages.
      expect([...asc].sort()).toEqual([...sent].sort())
      for (let k = 0; k < 3; k++) expect(asc.filter((m) => Number(m.slice(4)) % 3 === k)).toEqual(sent.filter((_, i) => i % 3 === k))
    } else {
      expect(asc).toEqual(sent)
    }
    const desc = (await getJson(url, `/logs?${q}&order=desc`)).body.logs.map((e: LogLine) => e.message)
    expect(desc).toEqual([...asc].reverse())
  })

  it('keeps microsecond precision and answers in UTC with six fraction digits', async () => {
    await postJson(url, [
      { service: 'precise', timestamp: '2026-11-27T12:00:00.1234569+02:00'.replace('2026-11-27T12', new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 13)), message: 'offset' }
    ])
    const { body } = await getJson(url, '/logs?service=precise')
    expect(body.logs).toHaveLength(1)
    const expectedHour = new Date(Date.now()).toISOString().slice(0, 13)
    expect(body.logs[0].timestamp).toMatch(new RegExp(`^${expectedHour}:00:00\\.123456Z$`))
  })

  it('treats start and end as inclusive bounds', async () => {
    const base = new Date(Date.now() - 60_000).toISOString().slice(0, 19)
    const stamps = ['.000001', '.000002', '.000003', '.000004'].map((f) => `${base}${f}Z`)
    await postJson(url, stamps.map((timestamp, i) => ({ service: 'bounds', timestamp, message: `b${i}` })))
    const { body } = await getJson(url, `/logs?service=bounds&start=${stamps[1]}&end=${stamps[2]}`)
    expect(body.logs.map((e: LogLine) => e.message)).toEqual(['b1', 'b2'])
  })

  it('filters by a message substring', async () => {
    await postJson(url, ['GET /a 200', 'GET /b 500', 'POST /c 500'].map((message, i) => ({ service: 'grep', timestamp: isoAt(-i), message })))
    const { body } = await getJson(url, '/logs?service=grep&contains=500')
    expect(body.logs.map((e: LogLine) => e.message).sort()).toEqual(['GET /b 500', 'POST /c 500'])
  })

  it('answers NDJSON and text by format= or Accept, with the next page as a last line or a Link header', async () => {
    const stamps = [-3000, -2000, -1000].map((ms) => isoAt(ms))
    await postJson(url, [{ service: 'layout', timestamp: stamps[0], message: 'one' }, { service: 'layout', timestamp: stamps[1], message: 'two\nlines "quoted"', attributes: { k: 'v' } }, { service: 'layout', timestamp: stamps[2], message: 'three' }])
    const ndjson = await fetch(`${url}/logs?service=layout&format=ndjson&limit=2`)
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const lines = (await ndjson.text()).split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.slice(0, 2).map((l) => JSON.parse(l))).toEqual([
      { service: 'layout', timestamp: expect.any(String), message: 'one' },
      { service: 'layout', timestamp: expect.any(String), message: 'two\nlines "quoted"', attributes: { k: 'v' } }
    ])
    const { next } = JSON.parse(lines[2]!) as { next: string }
    const rest = await (await fetch(`${url}/logs?service=layout&format=ndjson&limit=2&cursor=${next}`)).text()
    expect(rest.trim().split('\n').map((l) => JSON.parse(l).message)).toEqual(['three'])

    const text = await fetch(`${url}/logs?service=layout&limit=2`, { headers: { accept: 'text/plain' } })
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/)
    const body = await text.text()
    expect(body.split('\n')).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z layout one$/),
      expect.stringMatching(/ layout two\\nlines "quoted"$/),
      ''
    ])
    const link = text.headers.get('link')!
    expect(link).toMatch(/^<\/logs\?.*cursor=.*>; rel="next"$/)
    const following = await (await fetch(`${url}${link.slice(1, link.indexOf('>'))}`, { headers: { accept: 'text/plain' } })).text()
    expect(following).toMatch(/ layout three\n$/)
    expect((await getJson(url, '/logs?format=xml')).status).toBe(400)
  })

  it('takes times relative to now (start=now-1m, end=now) and since=<duration>', async () => {
    await postJson(url, [{ service: 'relative', timestamp: isoAt(-120_000), message: 'two minutes ago' }, { service: 'relative', timestamp: isoAt(-1000), message: 'a second ago' }])
    const recent = await getJson(url, '/logs?service=relative&start=now-1m&end=now')
    expect(recent.body.logs.map((e: LogLine) => e.message)).toEqual(['a second ago'])
    const since = await getJson(url, '/logs?service=relative&since=5m')
    expect(since.body.logs.map((e: LogLine) => e.message)).toEqual(['two minutes ago', 'a second ago'])
    const bad = await getJson(url, '/logs?service=relative&since=5x')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/since .* is not a duration/)
  })

  it('filters by an RE2 regex, anywhere in the message, together with contains; a bad pattern is a 400', async () => {
    await postJson(url, ['GET /a 200', 'GET /b 503', 'POST /c 500', 'GET /d 404'].map((message, i) => ({ service: 'grep-re', timestamp: isoAt(-i), message })))
    const { body } = await getJson(url, `/logs?service=grep-re&regex=${encodeURIComponent('5\\d\\d$')}`)
    expect(body.logs.map((e: LogLine) => e.message).sort()).toEqual(['GET /b 503', 'POST /c 500'])
    const both = await getJson(url, `/logs?service=grep-re&regex=${encodeURIComponent('^GET')}&contains=0`)
    expect(both.body.logs.map((e: LogLine) => e.message).sort()).toEqual(['GET /a 200', 'GET /b 503', 'GET /d 404'])
    const bad = await getJson(url, `/logs?regex=${encodeURIComponent('(a')}`)
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/not valid RE2 syntax/)
  })

  it('returns every service when none is named', async () => {
    await postJson(url, { service: 'everyone', timestamp: isoAt(0), message: 'x' })
    const all = await readAll(url, 'limit=10000')
    expect(all.some((e) => e.service === 'everyone')).toBe(true)
    expect(all.some((e) => e.service === 'ooo')).toBe(true)
    expect(isSorted(all)).toBe(true)
  })

  it('answers HEAD /logs with the headers of GET and no body', async () => {
    const res = await fetch(`${url}/logs?service=ooo`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await res.text()).toBe('')
  })

  it('returns an empty list for a service it has never seen', async () => {
    const { status, body } = await getJson(url, '/logs?service=never-seen')
    expect(status).toBe(200)
    expect(body).toEqual({ logs: [], next: null })
  })
})

describe('paging with cursors', () => {
  const services = servicesOnDistinctShards('page', 3)
  const q = services.map((s) => `service=${s}`).join('&')
  const total = 257

  beforeAll(async () => {
    // Many equal timestamps make page boundaries fall inside runs of ties.
    const entries = Array.from({ length: total }, (_, i) => ({
      service: services[i % 3]!,
      timestamp: isoAt(-1000 - (i % 40) * 13, 0),
      message: `p${i}`
    }))
    expect((await postJson(url, entries)).status).toBe(201)
  })

  for (const order of ['asc', 'desc'] as const) {
    it(`returns every entry exactly once, in ${order} order`, async () => {
      const paged = await readAll(url, `${q}&limit=10&order=${order}`)
      const whole = (await getJson(url, `/logs?${q}&limit=10000&order=${order}`)).body.logs as LogLine[]
      expect(whole).toHaveLength(total)
      expect(paged).toEqual(whole)
      expect(new Set(paged.map((e) => e.message)).size).toBe(total)
      expect(isSorted(paged, order === 'desc')).toBe(true)
    })
  }

  it('answers next = null on the last page and a cursor before it', async () => {
    const first = (await getJson(url, `/logs?${q}&limit=${total - 1}`)).body
    expect(first.logs).toHaveLength(total - 1)
    expect(typeof first.next).toBe('string')
    const second = (await getJson(url, `/logs?${q}&limit=${total - 1}&cursor=${first.next}`)).body
    expect(second.logs).toHaveLength(1)
    expect(second.next).toBeNull()
    const exact = (await getJson(url, `/logs?${q}&limit=${total}`)).body
    expect(exact.next).toBeNull()
  })
})

describe('GET /logs, bad parameters', () => {
  const cases: Array<[string, RegExp]> = [
    ['start=yesterday', /start "yesterday" is not an ISO 8601 time/],
    ['end=2026-13-01T00:00:00Z', /end .* is not an ISO 8601 time/],
    [`start=${encodeURIComponent(isoAt(0))}&end=${encodeURIComponent(isoAt(-1000))}`, /end is before start/],
    ['limit=0', /limit must be a whole number from 1 to 10000/],
    ['limit=10001', /limit must be/],
    ['limit=ten', /limit must be/],
    ['order=sideways', /order must be asc or desc/],
    ['cursor=garbage!', /cursor is not one this server issued/],
    ['service=', /service must not be empty/],
    ['servce=api', /unknown parameter "servce"/],
    ['limit=1&limit=2', /limit may be given only once/]
  ]
  for (const [query, error] of cases) {
    it(`answers 400 to ${query}`, async () => {
      const { status, body } = await getJson(url, `/logs?${query}`)
      expect(status).toBe(400)
      expect(body.error).toMatch(error)
    })
  }

  it('answers 400 to a cursor used with the other order', async () => {
    const first = (await getJson(url, '/logs?limit=1')).body
    expect(typeof first.next).toBe('string')
    const { status, body } = await getJson(url, `/logs?limit=1&order=desc&cursor=${first.next}`)
    expect(status).toBe(400)
    expect(body.error).toMatch(/issued for order=asc/)
  })
})

describe('GET /services and /healthz', () => {
  it('lists services with count, oldest and newest', async () => {
    const a = isoAt(-3000, 1)
    const b = isoAt(-1000, 2)
    await postJson(url, [{ service: 'svc-stats', timestamp: b, message: '2' }, { service: 'svc-stats', timestamp: a, message: '1' }])
    const { status, body } = await getJson(url, '/services')
    expect(status).toBe(200)
    const row = body.services.find((s: { service: string }) => s.service === 'svc-stats')
    expect(row).toEqual({ service: 'svc-stats', count: 2, oldest: a, newest: b })
    const names = body.services.map((s: { service: string }) => s.service)
    expect(names).toEqual([...names].sort())
  })

  it('answers 200 ok once every shard is ready', async () => {
    expect(await getJson(url, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } })
  })
})
