import { createServer, type ServerResponse } from 'node:http'
import { parseTimestamp } from '../../src/core/timestamp.js'
import { listen } from './listen.js'

// The "raw" peer: the least work an ingest can do on one thread. A node:http
// server that JSON-parses each entry (one JSON object, a JSON array, or NDJSON
// lines), parses its timestamp and appends it to an array. No validation
// beyond a readable timestamp, no ordering, no queries: POST only (plus the
// GET /healthz the bench fixture waits for). It answers 201 like logagg.

interface Stored {
  service: unknown
  ts: number
  message: unknown
}

const entries: Stored[] = []

function add (value: unknown): void {
  const v = value as { service?: unknown, timestamp?: unknown, message?: unknown }
  const ts = typeof v?.timestamp === 'string' ? parseTimestamp(v.timestamp) : NaN
  if (Number.isNaN(ts)) throw new Error('timestamp is missing or not ISO 8601')
  entries.push({ service: v.service, ts, message: v.message })
}

function reply (res: ServerResponse, status: number, body: string): void {
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.end(body)
}

/** Stores the entries of one body and returns the answer to send. */
function ingest (text: string, contentType: string): string {
  if (contentType.startsWith('application/x-ndjson')) {
    let n = 0
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      add(JSON.parse(line))
      n++
    }
    return `{"stored":${n}}`
  }
  const value: unknown = JSON.parse(text)
  if (!Array.isArray(value)) {
    add(value)
    return '{"status":"Log entry stored"}'
  }
  for (const item of value) add(item)
  return `{"stored":${value.length}}`
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    reply(res, 200, `{"status":"ok","entries":${entries.length}}`)
    return
  }
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST')
    reply(res, 405, '{"error":"the raw peer only accepts POST"}')
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    let answer: string
    try {
      answer = ingest(Buffer.concat(chunks).toString('utf8'), req.headers['content-type'] ?? '')
    } catch (err) {
      reply(res, 400, JSON.stringify({ error: (err as Error).message }))
      return
    }
    reply(res, 201, answer)
  })
})

listen(server, 'raw-peer')
