import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isoAt, postNdjson, readAll, startTestServer, type LogLine, type RunningServer } from './helpers.js'

// The built CLI (`node dist/src/cli/main.js`, what `npx logagg` runs) against
// the real sharded server: send from stdin, query back in every output,
// paging, relative times, a live tail, colours, and the exit codes of the
// ways it fails.

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

let server: RunningServer
let url: string

beforeAll(async () => {
  server = await startTestServer({ shards: 2 })
  url = server.url
})
afterAll(async () => { await server.close() })

interface Run { code: number | null, stdout: string, stderr: string }

/** Starts the CLI with `args`, stdout and stderr piped, pointed at `url` unless `env` says otherwise. */
function start (args: string[], env: Record<string, string> = {}): ChildProcess {
  const { NO_COLOR: _n, FORCE_COLOR: _f, LOGAGG_TOKEN: _t, ...inherited } = process.env
  return spawn(process.execPath, [CLI, ...args], { env: { ...inherited, LOGAGG_URL: url, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
}

/** Runs the CLI to its end with `input` on stdin. */
async function cli (args: string[], input = '', env: Record<string, string> = {}): Promise<Run> {
  const child = start(args, env)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdin!.end(input)
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

const ndjson = (entries: object[]): string => entries.map((e) => JSON.stringify(e)).join('\n') + '\n'
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '')

async function textPage (query: string): Promise<string> {
  const res = await fetch(`${url}/logs?${query}&format=text`)
  expect(res.status).toBe(200)
  return await res.text()
}

describe('send, then query', () => {
  const sent = [
    { service: 'cli-a', timestamp: isoAt(-3000, 1), message: 'first' },
    { service: 'cli-a', timestamp: isoAt(-2000, 2), message: 'two\nlines and an error', attributes: { region: 'eu' } },
    { service: 'cli-a', timestamp: isoAt(-1000, 3), message: 'third "quoted" é' }
  ]

  beforeAll(async () => {
    const run = await cli(['send'], ndjson(sent))
    expect(run.stderr).toContain('accepted 3, rejected 0')
    expect(run.code).toBe(0)
  })

  it('prints exactly the server\'s text lines when stdout is not a terminal', async () => {
    const run = await cli(['query', '--service', 'cli-a'])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(await textPage('service=cli-a'))
    expect(lines(run.stdout)).toHaveLength(3)
    expect(run.stdout).not.toContain('\x1b')
  })

  it('prints one JSON array with --output json, and NDJSON entries with --output ndjson', async () => {
    const expected = await readAll(url, 'service=cli-a')
    const json = await cli(['--output', 'json', 'query', '-s', 'cli-a'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual(expected)
    const nd = await cli(['query', '-s', 'cli-a', '-o', 'ndjson'])
    expect(lines(nd.stdout).map((l) => JSON.parse(l) as LogLine)).toEqual(expected)
    expect(expected[1]!.attributes).toEqual({ region: 'eu' })
  })

  it('an empty result is an empty JSON array, and no text at all', async () => {
    expect(JSON.parse((await cli(['-o', 'json', 'query', '-s', 'cli-nobody'])).stdout)).toEqual([])
    expect((await cli(['query', '-s', 'cli-nobody'])).stdout).toBe('')
  })

  it('colours when --color forces it: aligned columns, the level word marked', async () => {
    const run = await cli(['query', '-s', 'cli-a', '--color'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('\x1b[')
    expect(run.stdout).toContain('\x1b[31merror')
    // The multi-line message is shown on two lines, the second indented under the first.
    // eslint-disable-next-line no-control-regex
    const plain = run.stdout.replace(/\x1b\[[0-9;]*m/g, '')
    expect(plain).toContain(`two\n${' '.repeat(27 + 1 + 'cli-a'.length + 1)}lines and an error region=eu`)
    expect((await cli(['query', '-s', 'cli-a', '--no-color'])).stdout).not.toContain('\x1b')
  })
})

describe('query paging and times', () => {
  const N = 23
  beforeAll(async () => {
    const entries = Array.from({ length: N }, (_, i) => ({ service: 'cli-page', timestamp: isoAt(-60_000 + i * 100), message: `p${i}` }))
    const run = await cli(['send', '--batch-size', '5'], ndjson(entries))
    expect(run.stderr).toContain(`accepted ${N}, rejected 0`)
  })

  const messages = (run: Run): string[] => lines(run.stdout).map((l) => (JSON.parse(l) as LogLine).message)

  it('follows the next cursors page by page until every entry is printed', async () => {
    const run = await cli(['-o', 'ndjson', 'query', '-s', 'cli-page', '--page-size', '4'])
    expect(run.code).toBe(0)
    expect(messages(run)).toEqual(Array.from({ length: N }, (_, i) => `p${i}`))
  })

  it('stops after --limit entries in all, across pages, in either order', async () => {
    expect(messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-page', '--page-size', '4', '--limit', '10']))).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`))
    expect(messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-page', '--page-size', '2', '-n', '5', '--order', 'desc']))).toEqual(['p22', 'p21', 'p20', 'p19', 'p18'])
  })

  it('json output across pages is still one array', async () => {
    const run = await cli(['-o', 'json', 'query', '-s', 'cli-page', '--page-size', '3'])
    expect((JSON.parse(run.stdout) as LogLine[]).map((e) => e.message)).toEqual(Array.from({ length: N }, (_, i) => `p${i}`))
  })

  it('--since and relative --start / --end select by time on the server', async () => {
    await postNdjson(url, [
      JSON.stringify({ service: 'cli-since', timestamp: isoAt(-20 * 60_000), message: 'old' }),
      JSON.stringify({ service: 'cli-since', timestamp: isoAt(-1000), message: 'new' })
    ])
    expect(messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-since', '--since', '5m']))).toEqual(['new'])
    expect(messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-since', '--start', 'now-30m']))).toEqual(['old', 'new'])
    expect(messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-since', '--start', 'now-30m', '--end', 'now-10m']))).toEqual(['old'])
  })

  it('filters by several services (repeated or a comma list), contains and regex', async () => {
    const both = messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-since,cli-page', '--start', 'now-30m', '--regex', '^(old|p0)$']))
    expect(both).toEqual(['old', 'p0'])
    expect(messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-since', '--contains', 'ew']))).toEqual(['new'])
    const repeated = messages(await cli(['-o', 'ndjson', 'query', '-s', 'cli-since', '-s', 'cli-page', '--regex', '^p1[0-2]$']))
    expect(repeated).toEqual(['p10', 'p11', 'p12'])
  })
})

describe('send', () => {
  it('sends plain text lines as entries of --service, one per line, blank lines skipped', async () => {
    const run = await cli(['send', '--service', 'cli-text'], 'one\r\n\ntwo words\nthree\n')
    expect(run.code).toBe(0)
    expect(run.stderr).toContain('accepted 3, rejected 0')
    expect((await readAll(url, 'service=cli-text')).map((e) => e.message)).toEqual(['one', 'two words', 'three'])
  })

  it('passes --service-field, --time-field and --msg-field to the server for other JSON shapes', async () => {
    const ts = isoAt(-500)
    const run = await cli(['send', '--service-field', 'app', '--time-field', 'ts', '--msg-field', 'msg'], ndjson([{ app: 'cli-fields', ts, msg: 'mapped', extra: 1 }]))
    expect(run.code).toBe(0)
    const got = await readAll(url, 'service=cli-fields')
    expect(got).toEqual([{ service: 'cli-fields', timestamp: ts.replace('Z', '000Z').slice(0, 26) + 'Z', message: 'mapped', attributes: { extra: '1' } }])
  })

  it('reports rejected lines by their input line number, stores the others, and exits 1', async () => {
    const input = `${JSON.stringify({ service: 'cli-bad', timestamp: isoAt(0), message: 'ok 1' })}\n\nnot json\n${JSON.stringify({ service: 'cli-bad', timestamp: isoAt(0), message: 'ok 2' })}\n`
    const run = await cli(['send'], input)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/line 3: .*JSON/)
    expect(run.stderr).toContain('accepted 2, rejected 1')
    expect((await readAll(url, 'service=cli-bad')).map((e) => e.message)).toEqual(['ok 1', 'ok 2'])
  })

  it('sends a batch again after 429, waiting as Retry-After says', async () => {
    const bodies: string[] = []
    const stub = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => { body += d.toString() })
      req.on('end', () => {
        bodies.push(body)
        if (bodies.length === 1) {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' })
          res.end(JSON.stringify({ error: 'queue full', code: 'LOGAGG_ERR_QUEUE_FULL' }))
        } else {
          res.writeHead(201, { 'content-type': 'application/json' })
          res.end('{"stored":1}')
        }
      })
    })
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve))
    try {
      const run = await cli(['send', '-s', 'x'], 'hello\n', { LOGAGG_URL: `http://127.0.0.1:${(stub.address() as AddressInfo).port}` })
      expect(run.code).toBe(0)
      expect(bodies).toHaveLength(2)
      expect(bodies[1]).toBe(bodies[0])
      expect(run.stderr).toContain('answered 429')
      expect(run.stderr).toContain('accepted 1, rejected 0')
    } finally {
      stub.close()
    }
  })
})

describe('tail', () => {
  it('replays with --since, prints entries sent after it started, and exits 0 on Ctrl-C', async () => {
    await postNdjson(url, [JSON.stringify({ service: 'cli-tail', timestamp: isoAt(-1000), message: 'before' })])
    const child = start(['tail', '-s', 'cli-tail', '--since', '1m'])
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    const got: string[] = []
    let arrived = (): void => {}
    createInterface({ input: child.stdout! }).on('line', (line) => { got.push(line); arrived() })
    const exited = once(child, 'exit')
    const waitFor = async (n: number): Promise<void> => {
      while (got.length < n) {
        const more = new Promise<void>((resolve) => { arrived = resolve })
        await Promise.race([more, exited.then(([code]) => { throw new Error(`tail exited with ${code}: ${stderr}`) })])
      }
    }
    // The replayed entry shows the tail is registered: whatever is stored from now on reaches it.
    await waitFor(1)
    expect(got[0]).toMatch(/^\S+Z cli-tail before$/)
    await postNdjson(url, [
      JSON.stringify({ service: 'cli-tail', timestamp: isoAt(0), message: 'after 1' }),
      JSON.stringify({ service: 'cli-other', timestamp: isoAt(0), message: 'not mine' }),
      JSON.stringify({ service: 'cli-tail', timestamp: isoAt(0), message: 'after 2\nwith a newline' })
    ])
    await waitFor(3)
    expect(got.slice(1).map((l) => l.replace(/^\S+ /, ''))).toEqual(['cli-tail after 1', 'cli-tail after 2\\nwith a newline'])
    child.kill('SIGINT')
    const [code] = await exited as [number | null]
    expect(code).toBe(0)
    expect(stderr).toBe('')
  })
})

describe('failures', () => {
  it('a wrong token: the server\'s message on stderr, exit 1; the right one works', async () => {
    const guarded = await startTestServer({ shards: 1, authToken: 'the-right-token-0123456789' })
    try {
      const wrong = await cli(['query', '--token', 'the-wrong-token-0123456789'], '', { LOGAGG_URL: guarded.url })
      expect(wrong.code).toBe(1)
      expect(wrong.stderr).toMatch(/^logagg: the server answered 401 LOGAGG_ERR_UNAUTHORIZED: /)
      const right = await cli(['query'], '', { LOGAGG_URL: guarded.url, LOGAGG_TOKEN: 'the-right-token-0123456789' })
      expect(right).toMatchObject({ code: 0, stderr: '' })
      const send = await cli(['send', '-s', 'x'], 'line\n', { LOGAGG_URL: guarded.url })
      expect(send.code).toBe(1)
      expect(send.stderr).toContain('401')
    } finally {
      await guarded.close()
    }
  })

  it('no server at the address: a message naming it, exit 1', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`
    await new Promise((resolve) => probe.close(resolve))
    for (const args of [['query'], ['tail']]) {
      const run = await cli(args, '', { LOGAGG_URL: closed })
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(`logagg: cannot reach logagg at ${closed} (connection refused); is the server running there? Set --url or LOGAGG_URL\n`)
    }
  })

  it('a 400 from the server: its message on stderr, exit 1', async () => {
    const run = await cli(['query', '--start', 'yesterday-ish'])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^logagg: the server answered 400 LOGAGG_ERR_BAD_QUERY: start "yesterday-ish" is not an ISO 8601 time/)
    const tail = await cli(['tail', '--regex', '('])
    expect(tail.code).toBe(1)
    expect(tail.stderr).toContain('400 LOGAGG_ERR_BAD_QUERY')
  })

  it('escapes every control character the server sends before it reaches the terminal: errors, notices, lines that are not JSON', async () => {
    const hostile = '\x1b]0;owned\x07\x1b[2J\x9b31m\r'
    const fake = createServer((req, res) => {
      if (req.url!.startsWith('/logs/tail')) {
        // A tail's dropped notice, then a line that is not JSON.
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        res.end(`${JSON.stringify({ dropped: 3, message: `3 dropped ${hostile}` })}\nnot json ${hostile}\n`)
      } else {
        res.writeHead(400, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: `bad ${hostile}\nlogagg: a forged line`, code: `X${hostile}` }))
      }
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    const at = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
    try {
      const query = await cli(['query'], '', { LOGAGG_URL: at })
      expect(query.code).toBe(1)
      const tail = await cli(['tail'], '', { LOGAGG_URL: at })
      expect(tail.code).toBe(1)
      for (const stderr of [query.stderr, tail.stderr]) {
        // eslint-disable-next-line no-control-regex
        expect(stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/)
        expect(stderr).toContain('\\x1b]0;owned\\x07')
      }
      // The server's newline cannot start a line of its own on stderr.
      expect(query.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1)
      expect(tail.stderr).toContain('3 dropped \\x1b]0;owned')
      expect(tail.stderr).toContain('not JSON (is --url a logagg server?): not json \\x1b]0;owned')
    } finally {
      await new Promise((resolve) => fake.close(resolve))
    }
  })

  it('stops at a line without end instead of buffering it without bound', async () => {
    const chunk = 'x'.repeat(1 << 20)
    let sent = 0
    const fake = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      // 64 MiB without a newline, written as the client reads.
      const more = (): void => {
        while (sent < 64 && res.write(chunk)) sent++
        if (sent < 64) res.once('drain', () => { sent++; more() })
        else res.end()
      }
      res.on('close', () => { sent = 64 })
      more()
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    try {
      const run = await cli(['query'], '', { LOGAGG_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` })
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/^logagg: the server sent a line longer than 16777216 characters without a newline/)
    } finally {
      fake.closeAllConnections()
      await new Promise((resolve) => fake.close(resolve))
    }
  })

  it('usage mistakes exit 2 before any request', async () => {
    expect((await cli(['query', '--limit', '0'])).code).toBe(2)
    expect((await cli(['--output', 'yaml', 'query'])).code).toBe(2)
    expect((await cli(['--url', 'nope', 'query'])).code).toBe(2)
    expect((await cli(['send', '-s', 'x', '--msg-field', 'm'])).code).toBe(2)
    expect((await cli(['frobnicate'])).code).toBe(2)
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: logagg')
  })
})
