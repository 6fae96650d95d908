import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { program } from '../programs.js'
import { eventually, startTestServer, type RunningServer } from './helpers.js'
import { ApiChecker, type ApiAnswer } from './openapi-check.js'

// Every curl example of README.md runs here, with the real curl in bash, in
// README order (later examples read what earlier ones stored), against a
// test server: the address 127.0.0.1:8000 is rewritten to the server's port.
// Each curl call must exit 0 and answer 2xx (or the status its block's
// marker names), and its answer must match the OpenAPI document.
//
// A block may be preceded by a marker, `<!-- test: ... -->`, with any of
// (separated by `;`): `env NAME=value ...` (the block gets its own server
// with these settings, and the variables in its shell), `status N` (every
// call answers N), `stream` (the block does not end by itself: it is stopped
// once its first event has arrived), `results` (the text promises results:
// every GET's `data.result` or `logs` is non-empty).

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { loadSettings } = await import(dist('settings/settings.js')) as typeof import('../../src/settings/settings.js')

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const ADDRESS = '127.0.0.1:8000'

interface Marker { env: Record<string, string>, status: number | null, stream: boolean, results: boolean }
interface Example { line: number, lang: string, code: string, marker: Marker }

function parseMarker (text: string | undefined): Marker {
  const marker: Marker = { env: {}, status: null, stream: false, results: false }
  if (text === undefined) return marker
  for (const part of text.split(';').map((p) => p.trim()).filter((p) => p !== '')) {
    const [word, ...rest] = part.split(/\s+/)
    if (word === 'env') {
      for (const pair of rest) {
        const eq = pair.indexOf('=')
        if (eq < 1) throw new Error(`bad env in marker: ${part}`)
        marker.env[pair.slice(0, eq)] = pair.slice(eq + 1)
      }
    } else if (word === 'status' && rest.length === 1 && /^\d{3}$/.test(rest[0]!)) {
      marker.status = Number(rest[0])
    } else if (word === 'stream' && rest.length === 0) {
      marker.stream = true
    } else if (word === 'results' && rest.length === 0) {
      marker.results = true
    } else {
      throw new Error(`unknown marker directive: ${part}`)
    }
  }
  return marker
}

/** The fenced code blocks of a markdown text, each with the marker comment right before it. */
function codeBlocks (markdown: string): Example[] {
  const lines = markdown.split('\n')
  const out: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!)
    if (open === null) continue
    const start = i
    let end = i + 1
    while (end < lines.length && !lines[end]!.startsWith('```')) end++
    if (end === lines.length) throw new Error(`README.md line ${start + 1}: a code block that is never closed`)
    let before = start - 1
    while (before >= 0 && lines[before]!.trim() === '') before--
    const marker = /^<!--\s*test:(.*)-->\s*$/.exec(lines[before] ?? '')
    out.push({ line: start + 1, lang: open[1]!, code: lines.slice(start + 1, end).join('\n'), marker: parseMarker(marker?.[1]) })
    i = end
  }
  return out
}

const examples = codeBlocks(README).filter((b) => (b.lang === 'sh' || b.lang === 'bash') && /\bcurl\b/.test(b.code))

/** Wraps curl so that each call's arguments, headers and body are kept, while its output still goes where the example sends it. */
const PRELUDE = `set -eo pipefail
echo 0 > "$__DIR/n"
curl () {
  local n=$(( $(cat "$__DIR/n") + 1 ))
  echo "$n" > "$__DIR/n"
  printf '%s\\0' "$@" > "$__DIR/args.$n"
  command curl -D "$__DIR/head.$n" "$@" | tee "$__DIR/body.$n"
  return "\${PIPESTATUS[0]}"
}
`

interface CurlCall { args: string[], answer: ApiAnswer }

/** Method and URL path of a curl command line, as curl would send it. */
function request (args: string[]): { method: string, path: string } {
  let method: string | null = null
  let data = false
  let get = false
  let url: string | null = null
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '-X' || a === '--request') method = args[++i]!
    else if (a.startsWith('-X')) method = a.slice(2)
    else if (a === '-I' || a === '--head') method = 'HEAD'
    else if (a === '-G' || a === '--get') get = true
    else if (/^(-d|--data|--data-binary|--data-raw|--data-urlencode|--json|-F|--form)$/.test(a)) { data = true; i++ } else if (/^(-H|--header|-o|--output|-u|--user|-w|--write-out|-D|--dump-header|-A|-e|-m|--max-time)$/.test(a)) i++
    else if (!a.startsWith('-') && url === null) url = a
  }
  if (url === null) throw new Error(`no URL in curl ${args.join(' ')}`)
  const path = new URL(/^https?:\/\//.test(url) ? url : `http://${url}`).pathname
  return { method: method ?? (data && !get ? 'POST' : 'GET'), path }
}

/** The last response's status and headers in a curl -D dump (after any 100 Continue). */
function parseHead (dump: string): { status: number, headers: Headers } {
  const blocks = dump.split(/\r\n\r\n/).filter((b) => b.startsWith('HTTP/'))
  const last = blocks[blocks.length - 1]
  if (last === undefined) throw new Error(`no HTTP response in: ${dump.slice(0, 200)}`)
  const [statusLine, ...lines] = last.split('\r\n')
  const headers = new Headers()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
  }
  return { status: Number(statusLine!.split(' ')[1]), headers }
}

/** Runs an example in bash against `port`; returns its exit code, output and curl calls. */
async function runExample (example: Example, port: number): Promise<{ code: number | null, stdout: string, stderr: string, calls: CurlCall[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'readme-'))
  try {
    const code = example.code.replaceAll(ADDRESS, `127.0.0.1:${port}`)
    const child = spawn('bash', ['-c', PRELUDE + code], { cwd: dir, env: { ...process.env, ...example.marker.env, __DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = once(child, 'exit') as Promise<[number | null]>
    if (example.marker.stream) {
      // A stream does not end: stop the example (its whole process group) once an event is out.
      // An SSE event ends with a blank line; a line of the NDJSON or text layouts with its newline.
      expect(await eventually(() => (sse(stdout) ? stdout.includes('\n\n') : stdout.includes('\n')), 10_000), `no event from the stream; stderr: ${stderr}`).toBe(true)
      process.kill(-child.pid!, 'SIGTERM')
    }
    const [exitCode] = await exited
    const calls: CurlCall[] = []
    const count = existsSync(join(dir, 'n')) ? Number(readFileSync(join(dir, 'n'), 'utf8')) : 0
    for (let n = 1; n <= count; n++) {
      const args = readFileSync(join(dir, `args.${n}`), 'utf8').split('\0').slice(0, -1)
      const { status, headers } = parseHead(readFileSync(join(dir, `head.${n}`), 'utf8'))
      let body = readFileSync(join(dir, `body.${n}`))
      // A stopped stream: its events up to the last complete one.
      if (example.marker.stream) body = sse(body.toString('utf8')) ? body.subarray(0, body.lastIndexOf('\n\n') + 2) : body.subarray(0, body.lastIndexOf('\n') + 1)
      calls.push({ args, answer: { status, headers, body } })
    }
    return { code: exitCode, stdout, stderr, calls }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** How many results an answer holds: Loki's `data.result`, or the native `logs`. */
function resultCount (body: Buffer): number {
  const answer = JSON.parse(body.toString('utf8')) as { data?: { result?: unknown[] }, logs?: unknown[] }
  return (answer.data?.result ?? answer.logs ?? []).length
}

/** Whether a stream's text is Server-Sent Events (fields such as id: and data:, or a comment). */
function sse (text: string): boolean {
  return /^(id|data|event|retry):|^:/.test(text)
}

const api = new ApiChecker()
let shared: RunningServer
const own: RunningServer[] = []

beforeAll(async () => {
  program('curl', 'curl')
  program('jq', 'jq')
  shared = await startTestServer({ shards: 2 })
})
afterAll(async () => { await Promise.all([shared.close(), ...own.map((s) => s.close())]) })

describe('README.md', () => {
  it('has curl examples, every address in it is http://127.0.0.1:8000, and every marker is before a curl example', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8)
    const addresses = [...README.matchAll(/\b(localhost|127\.\d+\.\d+\.\d+|\[::1\]):(\d+)/g)].map((m) => m[0])
    expect(addresses.filter((a) => a !== ADDRESS)).toEqual([])
    for (const example of examples) expect(example.code, `README.md line ${example.line}`).toContain(ADDRESS)
    const markers = README.split('\n').filter((l) => l.startsWith('<!-- test:')).length
    expect(examples.filter((e) => e.marker.stream || e.marker.results || e.marker.status !== null || Object.keys(e.marker.env).length > 0)).toHaveLength(markers)
  })

  for (const example of examples) {
    const first = example.code.split('\n')[0]!
    const title = first.startsWith('# ') ? first.slice(2) : first
    it(`line ${example.line}: ${title.slice(0, 80)}`, async () => {
      let server = shared
      if (Object.keys(example.marker.env).length > 0) {
        server = await startTestServer(loadSettings([], { ...example.marker.env, PORT: '0', SHARDS: '2', LOG_LEVEL: 'silent' }))
        own.push(server)
      }
      const { code, stdout, stderr, calls } = await runExample(example, server.port)
      const context = `README.md line ${example.line}\nstdout: ${stdout.slice(0, 1000)}\nstderr: ${stderr.slice(0, 1000)}`
      if (!example.marker.stream) expect(code, context).toBe(0)
      expect(calls.length, context).toBeGreaterThan(0)
      for (const { args, answer } of calls) {
        const { method, path } = request(args)
        const where = `${context}\ncurl ${args.join(' ')} → ${answer.status} ${answer.body.toString('utf8').slice(0, 300)}`
        if (example.marker.status !== null) expect(answer.status, where).toBe(example.marker.status)
        else expect(answer.status >= 200 && answer.status < 300, where).toBe(true)
        api.check(method, path, answer)
        if (example.marker.results && method === 'GET') expect(resultCount(answer.body), `${where}\nthe text promises results`).toBeGreaterThan(0)
      }
    })
  }
})
