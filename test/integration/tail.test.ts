import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { eventually, startTestServer, type RunningServer } from './helpers.js'

// Live tails against the real sharded server: GET /logs/tail (Server-Sent
// Events) and Loki's WebSocket /loki/api/v1/tail. Entries are matched on the
// shards as they are stored; a tail replays from a start (or a Last-Event-ID)
// and goes live with no gap and no duplicate; a tail that cannot keep up is
// told what it missed.

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2, tailBuffer: 5 })
  url = server.url
})
afterAll(async () => { await server.close() })

const iso = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString()

async function post (entries: Array<{ service: string, message: string, ago?: number, attributes?: Record<string, string> }>): Promise<void> {
  const body = entries.map((e) => JSON.stringify({ service: e.service, timestamp: iso(e.ago ?? 0), message: e.message, attributes: e.attributes })).join('\n')
  const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
  expect(res.status).toBe(201)
}

interface SseEvent { id?: string, event?: string, data: any }

/** Opens an SSE tail and collects its events until closed. */
async function sse (params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ events: SseEvent[], close: () => void, status: number }> {
  const controller = new AbortController()
  const res = await fetch(`${url}/logs/tail?${new URLSearchParams(params).toString()}`, { headers, signal: controller.signal })
  const events: SseEvent[] = []
  if (res.status === 200) {
    const reading = (async () => {
      const decoder = new TextDecoder()
      let text = ''
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true })
          let end
          while ((end = text.indexOf('\n\n')) >= 0) {
            const block = text.slice(0, end)
            text = text.slice(end + 2)
            if (block.startsWith(':')) continue
            const e: SseEvent = { data: null }
            for (const line of block.split('\n')) {
              const colon = line.indexOf(': ')
              const [k, v] = [line.slice(0, colon), line.slice(colon + 2)]
              if (k === 'id') e.id = v
              else if (k === 'event') e.event = v
              else if (k === 'data') e.data = JSON.parse(v)
            }
            events.push(e)
          }
        }
      } catch {}
    })()
    reading.catch(() => {})
  }
  return { events, close: () => controller.abort(), status: res.status }
}

const messages = (events: SseEvent[]): string[] => events.filter((e) => e.event === undefined).map((e) => e.data.message)

describe('GET /logs/tail (Server-Sent Events)', () => {
  it('delivers new matching entries live, filtered on the shards like GET /logs', async () => {
    const tail = await sse({ service: 'sse-a', contains: 'hit' })
    await post([{ service: 'sse-a', message: 'hit 1' }, { service: 'sse-a', message: 'miss' }, { service: 'sse-b', message: 'hit other' }, { service: 'sse-a', message: 'hit 2', attributes: { k: 'v' } }])
    await eventually(async () => messages(tail.events).length >= 2, 5000)
    tail.close()
    expect(messages(tail.events)).toEqual(['hit 1', 'hit 2'])
    expect(tail.events[1]!.data).toMatchObject({ service: 'sse-a', message: 'hit 2', attributes: { k: 'v' } })
    expect(tail.events.every((e) => typeof e.id === 'string' && e.id.length > 0)).toBe(true)
  })

  it('replays from start, then goes live with no gap and no duplicate; Last-Event-ID resumes after an id', async () => {
    await post([{ service: 'sse-r', message: 'r1', ago: 3000 }, { service: 'sse-r', message: 'r2', ago: 2000 }, { service: 'sse-r', message: 'r3', ago: 1000 }])
    const tail = await sse({ service: 'sse-r', start: iso(10_000) })
    await eventually(async () => messages(tail.events).length >= 3, 5000)
    await post([{ service: 'sse-r', message: 'r4' }, { service: 'sse-r', message: 'r5' }])
    await eventually(async () => messages(tail.events).length >= 5, 5000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    tail.close()
    expect(messages(tail.events)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5'])
    const again = await sse({ service: 'sse-r' }, { 'last-event-id': tail.events[1]!.id! })
    await eventually(async () => messages(again.events).length >= 3, 5000)
    again.close()
    expect(messages(again.events)).toEqual(['r3', 'r4', 'r5'])
  })

  it('drops what a tail cannot take between deliveries and says how many', async () => {
    const tail = await sse({ service: 'sse-flood' })
    await post(Array.from({ length: 40 }, (_, i) => ({ service: 'sse-flood', message: `m${i}` })))
    await eventually(async () => tail.events.some((e) => e.event === 'dropped'), 5000)
    tail.close()
    // TAIL_BUFFER is 5 here: the first five arrive, the other 35 are counted.
    expect(messages(tail.events)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(tail.events.find((e) => e.event === 'dropped')!.data.dropped).toBe(35)
  })

  it('opens many tails at once without a replay query each: no 503 from QUERY_CONCURRENCY', async () => {
    const busy = await startTestServer({ shards: 2, queryConcurrency: 1 })
    const controller = new AbortController()
    try {
      const opened = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${busy.url}/logs/tail?service=many-${i % 10}`, { signal: controller.signal })))
      expect(opened.map((r) => r.status)).toEqual(opened.map(() => 200))
    } finally {
      controller.abort()
      await busy.close()
    }
  })

  it('refuses bad parameters with a 400 before streaming', async () => {
    const res = await fetch(`${url}/logs/tail?regex=${encodeURIComponent('(')}`)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toMatch(/not valid RE2 syntax/)
  })
})

describe('Loki tail WebSocket', () => {
  interface TailMessage { streams: Array<{ stream: Record<string, string>, values: string[][] }>, dropped_entries: Array<{ labels: Record<string, string>, timestamp: string }> }

  async function open (query: string, extra: Record<string, string> = {}): Promise<{ ws: WebSocket, messages: TailMessage[] }> {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query, ...extra }).toString()}`)
    const messages: TailMessage[] = []
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as TailMessage))
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return { ws, messages }
  }
  const lines = (messages: TailMessage[]): string[] => messages.flatMap((m) => m.streams.flatMap((s) => s.values.map((v) => v[1]!)))

  it('replays from start up to limit, then streams live entries in Loki\'s shape', async () => {
    await post([{ service: 'ws-a', message: 'old error', ago: 2000, attributes: { level: 'error' } }, { service: 'ws-a', message: 'old fine', ago: 1000 }])
    const { ws, messages } = await open('{service="ws-a"} |= "error"', { start: `${(Date.now() - 10_000) * 1_000_000}` })
    await eventually(async () => lines(messages).length >= 1, 5000)
    await post([{ service: 'ws-a', message: 'new error' }, { service: 'ws-b', message: 'other error' }])
    await eventually(async () => lines(messages).length >= 2, 5000)
    ws.close()
    expect(lines(messages)).toEqual(['old error', 'new error'])
    expect(messages[0]!.streams[0]!.stream).toEqual({ service: 'ws-a', level: 'error' })
    expect(messages[0]!.streams[0]!.values[0]![0]).toMatch(/^\d{19}$/)
    expect(messages.every((m) => Array.isArray(m.dropped_entries))).toBe(true)
  })

  it('names dropped entries in dropped_entries', async () => {
    const { ws, messages } = await open('{service="ws-flood"}', { limit: '0' })
    await post(Array.from({ length: 12 }, (_, i) => ({ service: 'ws-flood', message: `w${i}` })))
    await eventually(async () => messages.some((m) => m.dropped_entries.length > 0), 5000)
    ws.close()
    expect(lines(messages)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4'])
    const dropped = messages.flatMap((m) => m.dropped_entries)
    expect(dropped).toHaveLength(7)
    expect(dropped[0]!.labels).toEqual({ service: 'ws-flood' })
  })

  it('refuses a bad query at the handshake with a 400', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('count_over_time({a="b"}[1m])')}`)
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))
    expect(status).toBe(400)
  })
})

describe('one renderer family for tails and queries', () => {
  /** Reads a streaming GET /logs/tail as text until `done` says it has enough. */
  async function rawTail (params: Record<string, string>): Promise<{ text: () => string, close: () => void }> {
    const controller = new AbortController()
    const res = await fetch(`${url}/logs/tail?${new URLSearchParams(params).toString()}`, { signal: controller.signal })
    expect(res.status).toBe(200)
    let text = ''
    const decoder = new TextDecoder()
    ;(async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true })
      } catch {}
    })().catch(() => {})
    return { text: () => text, close: () => controller.abort() }
  }

  it('writes a live entry in the very bytes a query writes it: SSE data and NDJSON as GET /logs, text as its text, Loki tail streams as query_range', async () => {
    const service = 'same-bytes'
    const tails = { sse: await rawTail({ service }), ndjson: await rawTail({ service, format: 'ndjson' }), text: await rawTail({ service, format: 'text' }) }
    const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query: `{service="${service}"}` }).toString()}`)
    const loki: any[] = []
    ws.on('message', (data) => loki.push(JSON.parse(String(data))))
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    // A stream label, an attribute the label shadows, one it does not, and a message with a quote, a newline and non-ASCII text.
    const line = 'said "hi"\n\tthen é ☃'
    const push = await fetch(`${url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { service, env: 'prod' }, values: [[`${Date.now()}000000`, line, { env: 'shadowed', trace_id: 't"1' }]] }] })
    })
    expect(push.status).toBe(204)
    await eventually(async () => tails.sse.text().includes('data: ') && tails.ndjson.text().includes('\n') && tails.text.text().includes('\n') && loki.some((m) => m.streams.length > 0), 5000)
    for (const t of Object.values(tails)) t.close()
    ws.close()

    const page = async (format: string): Promise<string> => await (await fetch(`${url}/logs?service=${service}&format=${format}`)).text()
    const ndjson = (await page('ndjson')).trimEnd()
    expect(JSON.parse(ndjson)).toMatchObject({ service, message: line, attributes: { env: 'prod', trace_id: 't"1' } })
    expect(tails.ndjson.text().trimEnd()).toBe(ndjson)
    expect(tails.sse.text().split('\n').find((l) => l.startsWith('data: '))).toBe(`data: ${ndjson}`)
    expect(tails.text.text().trimEnd()).toBe((await page('text')).trimEnd())

    const range = await (await fetch(`${url}/loki/api/v1/query_range?${new URLSearchParams({ query: `{service="${service}"}`, limit: '10' }).toString()}`)).json() as any
    const tailed = loki.flatMap((m) => m.streams)
    expect(tailed).toEqual(range.data.result)
    expect(tailed[0].stream).toEqual({ service, env: 'prod', trace_id: 't"1' })
  })
})
