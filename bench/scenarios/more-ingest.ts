import { createServer, connect } from 'node:net'
import { SERVICES, nowUs } from '../data.js'
import { batchFeed, batchTemplates, bulkFeed } from '../feeds.js'
import type { Scenario } from '../scenario.js'
import type { Row } from '../types.js'

// More ingest paths over the very entries of (b) (same seed, 1000 per
// request), each compared with (b) logagg in the same run:
//   (h) (b) itself with 100 live tails open (SSE): 50 that each select one
//       service, so every entry goes to exactly one tail, and 50 that select
//       none; the tails' clients (this process) read what they get.
//   (i) Elasticsearch bulk batches of 1000 `create` actions to /_bulk.
//   (j) syslog over TCP, RFC 5424 frames with octet counting, as fast as one
//       connection per core can write them; syslog has no acknowledgement, so
//       entries/s is what the store holds at the end over the time sent.

const BODIES = 48

export const tailFanout: Scenario = {
  id: 'h',
  title: 'NDJSON batches of 1000 with 100 live tails',
  connections: 4,
  targets: ['logagg'],
  preloaded: false,
  threadCpu: true,
  async prepare ({ config, fixture }) {
    const feed = batchFeed(BODIES, config.batchSize, 2)
    const tails = [
      ...SERVICES.map((s) => `service=${s}`),
      ...SERVICES.map((_, i) => `service=absent-${i}`)
    ]
    const controller = new AbortController()
    let delivered = 0
    const opened = tails.map(async (query) => {
      const res = await fetch(`${fixture.url}/logs/tail?${query}`, { signal: controller.signal })
      if (res.status !== 200) throw new Error(`GET /logs/tail?${query} answered ${res.status}`)
      // Wrapped, so that awaiting the tail's opening does not wait for its end.
      return {
        done: (async () => {
          let carry = ''
          try {
            for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
              const text = carry + Buffer.from(chunk).toString('latin1')
              let at = text.indexOf('\ndata: ')
              while (at >= 0) {
                delivered++
                at = text.indexOf('\ndata: ', at + 7)
              }
              carry = text.slice(-6)
            }
          } catch {}
        })()
      }
    })
    const readers = await Promise.all(opened)
    return {
      requests: () => [{ kind: 'ingest', request: feed.request() }],
      entriesPerKind: { ingest: feed.entriesPerBody },
      note: `${feed.entriesPerBody} entries/request; 100 tails, 50 selecting one service each, 50 selecting none`,
      finish: async () => {
        // Let the last deliveries arrive, then close the tails.
        await new Promise((resolve) => setTimeout(resolve, 500))
        controller.abort()
        await Promise.all(readers.map((r) => r.done))
        return `the tails delivered ${delivered.toLocaleString('en-US')} entries in all (warm-up included)`
      }
    }
  }
}

export const esBulk: Scenario = {
  id: 'i',
  title: 'Elasticsearch bulk, batches of 1000',
  connections: 4,
  targets: ['logagg'],
  preloaded: false,
  threadCpu: true,
  async prepare ({ config }) {
    const feed = bulkFeed(batchTemplates(BODIES, config.batchSize, 2))
    return {
      requests: () => [{ kind: 'ingest', request: feed.request() }],
      entriesPerKind: { ingest: feed.entriesPerBody },
      note: `${feed.entriesPerBody} documents/request, the entries of (b)`
    }
  }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

let syslogPort = 0

/** RFC 5424 frames, octet-counted, of the entries of (b); the timestamp is the send time. */
function frames (count: number, size: number): Buffer[] {
  return batchTemplates(count, size, 2).map((batch) => Buffer.from(batch.map((e) => {
    const msg = `<134>1 ${new Date().toISOString()} bench ${e.service} 1234 - - ${e.message}`
    return `${Buffer.byteLength(msg)} ${msg}`
  }).join('')))
}

export const syslogTcp: Scenario = {
  id: 'j',
  title: 'syslog over TCP (RFC 5424, octet counting), full speed',
  connections: 2,
  targets: ['logagg'],
  preloaded: false,
  env: async () => ({ SYSLOG_TCP_PORT: String(syslogPort = await freePort()) }),
  prepare: async () => { throw new Error('(j) runs itself') },
  async run ({ fixture, config }, durationS): Promise<Row> {
    const chunks = frames(BODIES, config.batchSize)
    const send = async (seconds: number): Promise<number> => {
      const until = Date.now() + seconds * 1000
      const sent = await Promise.all(Array.from({ length: this.connections }, async (_, c) => {
        const socket = connect(syslogPort, '127.0.0.1')
        await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
        let n = 0
        for (let i = c; Date.now() < until; i++) {
          // Backpressure: wait for the socket to drain, as a shipper does.
          if (!socket.write(chunks[i % chunks.length]!)) await new Promise((resolve) => socket.once('drain', resolve))
          n += config.batchSize
        }
        await new Promise<void>((resolve) => socket.end(resolve))
        return n
      }))
      return sent.reduce((a, b) => a + b, 0)
    }
    const stored = async (): Promise<number> => {
      let total = 0
      let cursor = ''
      for (;;) {
        const res = await fetch(`${fixture.url}/services?limit=10000${cursor === '' ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
        const page = await res.json() as { services: Array<{ count: number }>, next: string | null }
        for (const s of page.services) total += s.count
        if (page.next === null) return total
        cursor = page.next
      }
    }
    await send(config.warmupS)
    const before = await stored()
    const started = nowUs()
    const sent = await send(durationS)
    // Wait until what was sent is stored (or stops growing), then count.
    let after = await stored()
    for (let i = 0; i < 50 && after < before + sent; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const next = await stored()
      if (next === after) break
      after = next
    }
    const seconds = (nowUs() - started) / 1e6
    const entries = after - before
    return {
      scenario: 'j',
      title: this.title,
      target: fixture.name,
      connections: this.connections,
      rps: 0,
      entriesPerSec: entries / seconds,
      latency: null,
      non2xx: 0,
      errors: 0,
      note: `${sent.toLocaleString('en-US')} entries sent in ${durationS} s, ${entries.toLocaleString('en-US')} stored (${(entries / sent * 100).toFixed(1)}%) in ${seconds.toFixed(1)} s until stored`,
      error: entries < sent ? `only ${entries} of ${sent} entries sent over TCP were stored` : null,
      load: null,
      cpu: null
    }
  }
}
