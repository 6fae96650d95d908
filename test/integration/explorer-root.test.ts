import { request } from 'node:http'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isoAt, startTestServer, type RunningServer } from './helpers.js'

// Issue 21: GET / is the explorer's page for a browser and the Elasticsearch
// handshake for everything else (omelasticsearch, Filebeat, Fluent Bit send
// Accept: application/json or no Accept), over real HTTP, on the sharded server.

let server: RunningServer
beforeAll(async () => { server = await startTestServer({ shards: 2 }) })
afterAll(async () => { await server.close() })

/** A raw request, so that Accept can be absent and Origin anything. */
function call (method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'

describe('GET /', () => {
  it('answers the explorer page to a browser, with a strict Content-Security-Policy', async () => {
    const res = await call('GET', '/', { accept: BROWSER_ACCEPT })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.headers.vary).toMatch(/Accept/i)
    // Vite's build: one module script and one stylesheet, named by their content's hash.
    expect(res.text).toMatch(/<script type="module" crossorigin src="\/ui\/assets\/index-[\w-]{8}\.js"><\/script>/)
    expect(res.text).toMatch(/<link rel="stylesheet" crossorigin href="\/ui\/assets\/index-[\w-]{8}\.css">/)
    // No inline script, no inline handler in the page itself.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(res.text).not.toMatch(/\son[a-z]+=/)
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("require-trusted-types-for 'script'")
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https:|\*/)
    expect(res.headers['x-elastic-product']).toBeUndefined()
    const head = await call('HEAD', '/', { accept: 'text/html' })
    expect(head.status).toBe(200)
    expect(head.headers['content-type']).toMatch(/^text\/html/)
  })

  it('answers the Elasticsearch handshake, byte for byte the same, to no Accept, JSON, */* and what the shippers send', async () => {
    const plain = await call('GET', '/', {})
    expect(plain.status).toBe(200)
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(plain.headers['x-elastic-product']).toBe('Elasticsearch')
    const info = JSON.parse(plain.text) as { version: { number: string }, tagline: string }
    expect(info.version.number).toBe('8.11.0')
    expect(info.tagline).toBe('You Know, for Search')
    for (const accept of ['application/json', '*/*', 'application/vnd.elasticsearch+json; compatible-with=8', 'application/json, text/plain, */*']) {
      const res = await call('GET', '/', { accept })
      expect(res.status, accept).toBe(200)
      expect(res.text, accept).toBe(plain.text)
      expect(res.headers['x-elastic-product'], accept).toBe('Elasticsearch')
    }
  })

  it('serves the page\'s files under /ui/ (its script and stylesheet), for ever when hashed, and 404s an unknown one', async () => {
    const page = (await call('GET', '/', { accept: 'text/html' })).text
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(page)?.[1]
    const style = /href="(\/ui\/assets\/[^"]+\.css)"/.exec(page)?.[1]
    expect(script).toBeDefined()
    expect(style).toBeDefined()
    const js = await call('GET', script!, {})
    expect(js.status).toBe(200)
    expect(js.headers['content-type']).toMatch(/javascript/)
    expect(js.headers['x-content-type-options']).toBe('nosniff')
    // uPlot is in the one bundle (its class names for the chart's parts).
    expect(js.text).toContain('u-cursor')
    const css = await call('GET', style!, {})
    expect(css.status).toBe(200)
    expect(css.headers['content-type']).toMatch(/^text\/css/)
    // A hashed name changes with its content: cached for a year, never revalidated; the page itself always is.
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect((await call('GET', '/', { accept: 'text/html' })).headers['cache-control']).toBe('no-cache')
    expect((await call('GET', '/ui/nothing.js', {})).status).toBe(404)
    expect((await call('GET', '/ui/assets/nothing-12345678.js', {})).status).toBe(404)
    // Compressed for a browser, and revalidated by its tag.
    const gz = await call('GET', script!, { 'accept-encoding': 'gzip, deflate, br' })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(Number(gz.headers['content-length'])).toBeLessThan(js.text.length / 2)
    expect(String(gz.headers.vary)).toMatch(/Accept-Encoding/)
    const again = await call('GET', script!, { 'if-none-match': String(js.headers.etag) })
    expect(again.status).toBe(304)
    expect(js.headers['content-security-policy']).toContain("script-src 'self'")
  })

  it('lets the page\'s own same-origin requests through the Origin check, and no other origin', async () => {
    const self = new URL(server.url)
    const entry = JSON.stringify({ service: 'explorer-origin', timestamp: isoAt(0), message: 'from the page' })
    const own = await call('POST', '/logs', { 'content-type': 'application/json', origin: self.origin, host: self.host }, entry)
    expect(own.status).toBe(201)
    const other = await call('POST', '/logs', { 'content-type': 'application/json', origin: `http://${self.hostname}:${Number(self.port) + 1}`, host: self.host }, entry)
    expect(other.status).toBe(403)
    expect((await call('GET', '/logs/volume?query=%7Bservice%3D%22explorer-origin%22%7D', { origin: 'https://evil.example' })).status).toBe(403)
  })
})

describe('GET /logs/volume', () => {
  it('counts the entries of a log query per bucket by detected level, on the shards', async () => {
    const lines = [
      { message: 'disk failed', attributes: { level: 'ERROR' } },
      { message: 'slow', attributes: { severity: 'warning' } },
      { message: 'an error in the text' },
      { message: 'WARN text' },
      { message: 'level words none' },
      { message: 'debug: cache miss' },
      { message: 'info started' },
      { message: 'no level', attributes: { level: 'something' } }
    ].map((l, i) => JSON.stringify({ service: 'vol', timestamp: isoAt(-60_000 + i * 1000), ...l }))
    const res = await fetch(`${server.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
    expect(res.status).toBe(201)
    const q = new URLSearchParams({ query: '{service="vol"}', start: 'now-5m', end: 'now' })
    const v = await (await fetch(`${server.url}/logs/volume?${q.toString()}`)).json() as { times: number[], step: number, levels: Record<string, number[]> }
    const sum = (l: string): number => v.levels[l]!.reduce((a, b) => a + b, 0)
    expect({ error: sum('error'), warn: sum('warn'), info: sum('info'), debug: sum('debug'), unknown: sum('unknown') }).toEqual({ error: 2, warn: 2, info: 1, debug: 1, unknown: 2 })
    expect(v.step).toBe(5000)
    expect(v.times.length).toBe(60)
    const filtered = await (await fetch(`${server.url}/logs/volume?${new URLSearchParams({ query: '{service="vol"} |= "text"', start: 'now-5m' }).toString()}`)).json() as { levels: Record<string, number[]> }
    expect(filtered.levels.error!.reduce((a, b) => a + b, 0)).toBe(1)
    expect(filtered.levels.warn!.reduce((a, b) => a + b, 0)).toBe(1)
    const bad = await fetch(`${server.url}/logs/volume?query=${encodeURIComponent('sum(count_over_time({service="vol"}[1m]))')}`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/log query/)
  })
})

describe('the tail WebSocket with a token as a subprotocol (what the explorer sends)', () => {
  it('takes logagg.bearer.<base64url token> when there is no Authorization header, answers logagg.v1 and never the token', async () => {
    const guarded = await startTestServer({ shards: 1, authToken: 'tail-token-0123456789abcdef' })
    try {
      const url = `${guarded.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{service="ws-token"}')}`
      const opened = (protocols: string[]): Promise<{ protocol: string } | { status: number }> => new Promise((resolve) => {
        const ws = new WebSocket(url, protocols)
        ws.once('open', () => { resolve({ protocol: ws.protocol }); ws.close() })
        ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode! }); res.resume() })
        ws.once('error', () => {})
      })
      const token = Buffer.from('tail-token-0123456789abcdef').toString('base64url')
      expect(await opened(['logagg.v1', `logagg.bearer.${token}`])).toEqual({ protocol: 'logagg.v1' })
      expect(await opened(['logagg.v1', `logagg.bearer.${Buffer.from('wrong-token-0123456789').toString('base64url')}`])).toEqual({ status: 401 })
      expect(await opened(['logagg.v1'])).toEqual({ status: 401 })
    } finally {
      await guarded.close()
    }
  })
})
