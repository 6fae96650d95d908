import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isoAt, postNdjson, readAll, startTestServer, type LogLine, type RunningServer } from './helpers.js'

// The output formats of every query endpoint: GET /logs/tail as NDJSON or
// text lines (no SSE framing) chosen by format= or Accept; GET /services as
// NDJSON or text; relative times accepted wherever a time is.

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2, tailBuffer: 5 })
  url = server.url
})
afterAll(async () => { await server.close() })

const line = (service: string, message: string, offsetMs = 0, attributes?: Record<string, string>): string =>
  JSON.stringify({ service, timestamp: isoAt(offsetMs), message, attributes })

/** An open tail read line by line; `waitFor(n)` resolves once n lines (keep-alive blank lines aside) have come. */
async function openTail (query: string, headers: Record<string, string> = {}): Promise<{ res: Response, lines: string[], waitFor: (n: number) => Promise<void>, close: () => void }> {
  const controller = new AbortController()
  const res = await fetch(`${url}/logs/tail?${query}`, { headers, signal: controller.signal })
  const lines: string[] = []
  let arrived = (): void => {}
  let ended: Promise<never> = new Promise(() => {})
  if (res.status === 200) {
    ended = (async () => {
      const decoder = new TextDecoder()
      let pending = ''
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          pending += decoder.decode(chunk, { stream: true })
          const parts = pending.split('\n')
          pending = parts.pop()!
          lines.push(...parts.filter((l) => l !== ''))
          arrived()
        }
      } catch {}
      throw new Error(`the tail ended after ${lines.length} lines`)
    })()
    ended.catch(() => {})
  }
  const waitFor = async (n: number): Promise<void> => {
    while (lines.length < n) await Promise.race([new Promise<void>((resolve) => { arrived = resolve }), ended])
  }
  return { res, lines, waitFor, close: () => controller.abort() }
}

describe('GET /logs/tail as plain lines', () => {
  it('format=text: the replay, then live entries, each one line exactly as GET /logs?format=text writes it', async () => {
    await postNdjson(url, [line('fmt-text', 'replayed', -2000)])
    const tail = await openTail('service=fmt-text&since=1m&format=text')
    expect(tail.res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    await tail.waitFor(1)
    await postNdjson(url, [line('fmt-text', 'live\nsecond line', 0, { k: 'v' }), line('fmt-other', 'no'), line('fmt-text', 'live "2"')])
    await tail.waitFor(3)
    tail.close()
    const page = await (await fetch(`${url}/logs?service=fmt-text&format=text`)).text()
    expect(tail.lines).toEqual(page.split('\n').filter((l) => l !== ''))
    expect(tail.lines[1]).toMatch(/ fmt-text live\\nsecond line$/)
  })

  it('format=ndjson: one JSON entry per line, in GET /logs\'s shape, attributes included', async () => {
    await postNdjson(url, [line('fmt-nd', 'replayed', -2000)])
    const tail = await openTail('service=fmt-nd&start=now-1m&format=ndjson')
    expect(tail.res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
    await tail.waitFor(1)
    await postNdjson(url, [line('fmt-nd', 'live', 0, { region: 'eu' })])
    await tail.waitFor(2)
    tail.close()
    expect(tail.lines.map((l) => JSON.parse(l) as LogLine)).toEqual(await readAll(url, 'service=fmt-nd'))
    expect(JSON.parse(tail.lines[1]!)).toMatchObject({ message: 'live', attributes: { region: 'eu' } })
  })

  it('Accept chooses the layout when format is absent; SSE stays the default', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ accept: 'application/x-ndjson' }, 'application/x-ndjson; charset=utf-8'],
      [{ accept: 'text/plain' }, 'text/plain; charset=utf-8'],
      [{ accept: 'text/event-stream' }, 'text/event-stream; charset=utf-8'],
      [{ accept: '*/*' }, 'text/event-stream; charset=utf-8'],
      [{}, 'text/event-stream; charset=utf-8']
    ]
    for (const [headers, type] of cases) {
      const tail = await openTail('service=fmt-accept', headers)
      tail.close()
      expect(tail.res.headers.get('content-type')).toBe(type)
    }
    const sse = await openTail('service=fmt-accept&format=sse', { accept: 'text/plain' })
    sse.close()
    expect(sse.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
  })

  it('another format is a 400 naming the ones a tail takes', async () => {
    const res = await fetch(`${url}/logs/tail?format=json`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'LOGAGG_ERR_BAD_QUERY', error: expect.stringContaining('sse, ndjson or text') })
  })

  it('a client that does not keep up is told what it missed: a {"dropped"} line in NDJSON, a # line in text', async () => {
    await postNdjson(url, [line('fmt-drop', 'marker', -1000)])
    const nd = await openTail('service=fmt-drop&since=1m&format=ndjson')
    const text = await openTail('service=fmt-drop&since=1m&format=text')
    await nd.waitFor(1)
    await text.waitFor(1)
    // TAIL_BUFFER is 5: twenty entries at once overflow each tail's buffer on the shard.
    await postNdjson(url, Array.from({ length: 20 }, (_, i) => line('fmt-drop', `burst ${i}`)))
    await nd.waitFor(7)
    await text.waitFor(7)
    nd.close()
    text.close()
    expect(nd.lines.map((l) => JSON.parse(l))).toContainEqual({ dropped: 15, message: '15 entries were dropped because this client did not keep up' })
    expect(text.lines).toContain('# 15 entries were dropped because this client did not keep up')
  })
})

describe('GET /services in every layout', () => {
  const names = ['svc-fmt-a', 'svc-fmt-b', 'svc-fmt-c']
  beforeAll(async () => {
    await postNdjson(url, names.flatMap((s, i) => Array.from({ length: i + 1 }, (_, k) => line(s, `m${k}`, -1000 + k))))
  })

  interface Service { service: string, count: number, oldest: string, newest: string }

  async function allJson (): Promise<Service[]> {
    const res = await fetch(`${url}/services?limit=10000`)
    const body = await res.json() as { services: Service[], next: string | null }
    expect(Object.keys(body)).toEqual(['services', 'next'])
    return body.services
  }

  it('format=ndjson: a line per service, then {"next"} while there are more; the pages add up to the JSON answer', async () => {
    const seen: Service[] = []
    let cursor = ''
    for (let pages = 0; pages < 100; pages++) {
      const res = await fetch(`${url}/services?format=ndjson&limit=2${cursor === '' ? '' : `&cursor=${cursor}`}`)
      expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
      const lines = (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Service & { next?: string })
      const last = lines[lines.length - 1]!
      if (last.next === undefined) {
        seen.push(...lines)
        break
      }
      expect(lines).toHaveLength(3)
      seen.push(...lines.slice(0, -1))
      cursor = last.next
    }
    expect(seen).toEqual(await allJson())
    expect(seen.filter((s) => names.includes(s.service)).map((s) => s.count)).toEqual([1, 2, 3])
  })

  it('format=text (or Accept: text/plain): "<service> <count> <oldest> <newest>" lines, the next page in a Link header', async () => {
    const expected = (await allJson()).map((s) => `${s.service} ${s.count} ${s.oldest} ${s.newest}`)
    const whole = await fetch(`${url}/services?format=text&limit=10000`)
    expect(whole.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(whole.headers.get('link')).toBeNull()
    expect(await whole.text()).toBe(expected.map((l) => `${l}\n`).join(''))
    const first = await fetch(`${url}/services?limit=1`, { headers: { accept: 'text/plain' } })
    expect(await first.text()).toBe(`${expected[0]}\n`)
    const link = first.headers.get('link')!
    expect(link).toMatch(/^<\/services\?limit=1&cursor=[\w-]+>; rel="next"$/)
    const second = await fetch(`${url}${link.slice(1, link.indexOf('>'))}`, { headers: { accept: 'text/plain' } })
    expect(await second.text()).toBe(`${expected[1]}\n`)
    expect(first.headers.get('logagg-next-cursor')).toBe(new URL(link.slice(1, link.indexOf('>')), url).searchParams.get('cursor'))
  })

  it('a bad format is a 400', async () => {
    const res = await fetch(`${url}/services?format=xml`)
    expect(res.status).toBe(400)
  })
})

describe('relative times on every endpoint that takes a time', () => {
  beforeAll(async () => {
    await postNdjson(url, [line('rel-t', 'old', -20 * 60_000), line('rel-t', 'new', -1000)])
  })

  it('GET /logs: start, end and since', async () => {
    expect((await readAll(url, 'service=rel-t&since=5m')).map((e) => e.message)).toEqual(['new'])
    expect((await readAll(url, 'service=rel-t&start=now-30m&end=now-10m')).map((e) => e.message)).toEqual(['old'])
  })

  it('GET /logs/tail: start=now-… and since replay from then', async () => {
    for (const q of ['start=now-5m', 'since=5m', 'start=now-30m']) {
      const tail = await openTail(`service=rel-t&format=ndjson&${q}`)
      await tail.waitFor(q === 'start=now-30m' ? 2 : 1)
      tail.close()
      expect(tail.lines.map((l) => (JSON.parse(l) as LogLine).message)).toEqual(q === 'start=now-30m' ? ['old', 'new'] : ['new'])
    }
  })

  it('Loki\'s query API: start, end and since', async () => {
    const range = async (q: string): Promise<string[]> => {
      const res = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent('{service="rel-t"}')}&direction=forward&${q}`)
      expect(res.status).toBe(200)
      const body = await res.json() as { data: { result: Array<{ values: string[][] }> } }
      return body.data.result.flatMap((s) => s.values.map((v) => v[1]!))
    }
    expect(await range('since=5m')).toEqual(['new'])
    expect(await range('start=now-30m&end=now-10m')).toEqual(['old'])
    const labels = await fetch(`${url}/loki/api/v1/label/service/values?start=now-5m&end=now`)
    expect(((await labels.json()) as { data: string[] }).data).toContain('rel-t')
  })
})
