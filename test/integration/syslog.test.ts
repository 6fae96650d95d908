import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, readAll, startTestServer, type LogLine, type RunningServer } from './helpers.js'

// The syslog listeners over raw sockets: both TCP framings, UDP, bad frames,
// garbage and stalled clients next to well-behaved ones, and the drop counts
// in the server log. Real clients (logger, rsyslog) are in syslog-clients.test.ts.

const dist = (path: string): string => new URL(`../../dist/src/${path}`, import.meta.url).href
const { formatTimestamp } = await import(dist('core/timestamp.js')) as typeof import('../../src/core/timestamp.js')

const MAX_BODY = 4096
let server: RunningServer
let tcpPort: number
let udpPort: number
const logLines: string[] = []

beforeAll(async () => {
  server = await startTestServer({ shards: 2, maxBody: MAX_BODY, headersTimeout: 400, requestTimeout: 400, syslogTcpPort: 0, syslogUdpPort: 0 }, logLines)
  tcpPort = server.syslog!.tcpPort!
  udpPort = server.syslog!.udpPort!
})
afterAll(async () => { await server.close() })

const iso = (us: number): string => new Date(us / 1000).toISOString()
const msAgo = (ms: number): number => (Date.now() - ms) * 1000

async function tcp (): Promise<Socket> {
  const socket = connect(tcpPort, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

async function waitFor (params: string, count: number): Promise<LogLine[]> {
  let logs: LogLine[] = []
  await eventually(async () => (logs = await readAll(server.url, params)).length >= count, 5000)
  return logs
}

const octets = (msg: string): string => `${Buffer.byteLength(msg)} ${msg}`
const pad = (n: number, width = 2, fill = '0'): string => String(n).padStart(width, fill)
/** An RFC 3164 timestamp (`Nov  5 09:03:07`) of epoch ms, in this machine's time zone. */
const bsd = (ms: number): string => {
  const d = new Date(ms)
  return `${d.toDateString().slice(4, 7)} ${pad(d.getDate(), 2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

describe('syslog over TCP', () => {
  it('reads octet-counted and newline frames on one connection, RFC 5424 and 3164, with their attributes', async () => {
    const t = msAgo(2000)
    const socket = await tcp()
    const sd = '[origin@32473 ip="10.0.0.9" software="x\\"y"]'
    socket.write(octets(`<134>1 ${iso(t)} web-1 tcp-app 4711 REQ ${sd} \ufefffirst line`))
    socket.write(octets(`<134>1 ${iso(t + 1000)} web-1 tcp-app - - - second\nline`))
    socket.write(`<13>1 ${iso(t + 2000)} web-2 tcp-app - - - third\n`)
    socket.end(`<38>${bsd(t / 1000 + 3000)} web-3 tcp-app[99]: fourth\n`)
    const logs = await waitFor('service=tcp-app', 4)
    expect(logs).toEqual([
      { service: 'tcp-app', timestamp: formatTimestamp(t), message: 'first line', attributes: { severity: 'info', facility: 'local0', hostname: 'web-1', procid: '4711', msgid: 'REQ', 'sd.origin@32473.ip': '10.0.0.9', 'sd.origin@32473.software': 'x"y' } },
      { service: 'tcp-app', timestamp: formatTimestamp(t + 1000), message: 'second\nline', attributes: { severity: 'info', facility: 'local0', hostname: 'web-1' } },
      { service: 'tcp-app', timestamp: formatTimestamp(t + 2000), message: 'third', attributes: { severity: 'notice', facility: 'user', hostname: 'web-2' } },
      // 3164: whole seconds, read in this machine's zone, as bsd() wrote them.
      { service: 'tcp-app', timestamp: formatTimestamp(Math.floor(t / 1e6 + 3) * 1e6), message: 'fourth', attributes: { severity: 'info', facility: 'auth', hostname: 'web-3', procid: '99' } }
    ])
  })

  it('keeps what it cannot parse whole as service syslog, and a wrong clock\'s lines at arrival with reported_time', async () => {
    const socket = await tcp()
    socket.write('this is not syslog at all\n')
    socket.end('<14>1 2001-01-01T00:00:00Z old-host clock-app - - - from 2001\n')
    const raw = await waitFor('service=syslog&contains=not%20syslog', 1)
    expect(raw).toEqual([{ service: 'syslog', timestamp: expect.any(String), message: 'this is not syslog at all' }])
    const retimed = await waitFor('service=clock-app', 1)
    expect(retimed[0]!.attributes).toEqual({ severity: 'info', facility: 'user', hostname: 'old-host', reported_time: '2001-01-01T00:00:00.000000Z' })
    expect(Math.abs(Date.parse(retimed[0]!.timestamp) - Date.now())).toBeLessThan(10_000)
  })

  it('cuts a frame over MAX_BODY and goes on with the next frame', async () => {
    const socket = await tcp()
    const long = `<14>1 - h cut-app - - - ${'x'.repeat(3 * MAX_BODY)}`
    socket.write(octets(long))
    socket.write(`<14>1 - h cut-app - - - ${'y'.repeat(2 * MAX_BODY)}\n`)
    socket.end('<14>1 - h cut-app - - - after\n')
    const logs = await waitFor('service=cut-app', 3)
    expect(logs.map((l) => l.message)).toEqual(['x'.repeat(MAX_BODY - 24), 'y'.repeat(MAX_BODY - 24), 'after'])
  })

  it('disconnects a client that sends garbage or stalls mid-frame; another client is not affected', async () => {
    const good = await tcp()
    good.write('<14>1 - h steady-app - - - before\n')
    const garbage = await tcp()
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x0a]))
    await once(garbage, 'close')
    const stall = await tcp()
    // After a whole line: a connection that frames its messages and stops mid-frame stalled (without one it may be
    // a newline-less sender such as Python's SysLogHandler, whose last message is ended after a quiet second instead).
    stall.write('<14>1 - h stall-app - - - whole\n<14>1 - h stall-app - - - half a fra')
    await once(stall, 'close')
    good.end('<14>1 - h steady-app - - - after\n')
    expect((await waitFor('service=steady-app', 2)).map((l) => l.message)).toEqual(['before', 'after'])
    // What the stalled client did send was read, so it is stored.
    expect((await waitFor('service=stall-app', 2)).map((l) => l.message)).toEqual(['whole', 'half a fra'])
    expect(server.syslog!.stats.disconnected).toEqual({ garbage: 1, stalled: 1, idle: 0, overLimit: 0 })
    expect(server.syslog!.stats.dropped.garbage).toBe(1)
  })
})

describe('syslog over TCP with a full queue', () => {
  it('holds senders back instead of dropping: every frame read is stored once', async () => {
    const small = await startTestServer({ shards: 1, queueLimit: 2, syslogTcpPort: 0 })
    try {
      const port = small.syslog!.tcpPort!
      const senders = await Promise.all([0, 1, 2, 3].map(async (c) => {
        const socket = connect(port, '127.0.0.1')
        await once(socket, 'connect')
        return { c, socket }
      }))
      // Each sender writes its frames in many small writes, so many batches meet a busy queue.
      await Promise.all(senders.map(async ({ c, socket }) => {
        for (let i = 0; i < 150; i++) socket.write(`<14>1 - h queue-app - - - c${c} m${i}\n`)
        socket.end()
        await once(socket, 'close')
      }))
      let logs: LogLine[] = []
      await eventually(async () => (logs = await readAll(small.url, 'service=queue-app')).length >= 600, 10_000)
      expect(logs.length).toBe(600)
      for (const c of [0, 1, 2, 3]) {
        expect(logs.map((l) => l.message).filter((m) => m.startsWith(`c${c} `))).toEqual(Array.from({ length: 150 }, (_, i) => `c${c} m${i}`))
      }
      expect(small.syslog!.stats.dropped.refused).toBe(0)
      expect(small.syslog!.stats.queueFullWaits).toBeGreaterThan(0)
    } finally {
      await small.close()
    }
  })
})

describe('syslog TCP connection bounds', () => {
  it('closes connections past SYSLOG_MAX_CONNECTIONS at once, and ones silent for SYSLOG_IDLE_TIMEOUT; the others keep working', async () => {
    const lines: string[] = []
    const bounded = await startTestServer({ shards: 1, syslogTcpPort: 0, syslogMaxConnections: 2, syslogIdleTimeout: 1500 }, lines)
    try {
      const port = bounded.syslog!.tcpPort!
      const open = async (): Promise<Socket> => {
        const socket = connect(port, '127.0.0.1')
        socket.on('error', () => {})
        await once(socket, 'connect')
        return socket
      }
      const [a, b] = [await open(), await open()]
      // Both are known to the server once their first frame is stored.
      a.write('<14>1 - h bound-app - - - from a\n')
      b.write('<14>1 - h bound-app - - - from b\n')
      await eventually(async () => (await readAll(bounded.url, 'service=bound-app')).length === 2, 5000)
      const third = await open()
      await once(third, 'close')
      expect(bounded.syslog!.stats.disconnected.overLimit).toBe(1)
      // a keeps talking (so stays), b goes silent and is closed after the idle timeout; then a newcomer gets in.
      const closedB = once(b, 'close')
      const ticker = setInterval(() => a.write('<14>1 - h bound-app - - - tick\n'), 200)
      try {
        await closedB
      } finally {
        clearInterval(ticker)
      }
      expect(a.destroyed).toBe(false)
      expect(bounded.syslog!.stats.disconnected.idle).toBe(1)
      const late = await open()
      late.end('<14>1 - h bound-app - - - late\n')
      await eventually(async () => (await readAll(bounded.url, 'service=bound-app&contains=late')).length === 1, 5000)
      a.end()
    } finally {
      await bounded.close()
    }
    const stopped = lines.map((l) => JSON.parse(l) as { msg: string, syslog?: Record<string, unknown> }).find((l) => l.msg === 'syslog listeners stopped')
    expect(stopped?.syslog).toMatchObject({ disconnected: { overLimit: 1, idle: 1 } })
  })

  it('warns at start that the listeners take no token when AUTH_TOKEN or INGEST_TOKEN is set', async () => {
    const warned = (lines: string[]): boolean => lines.some((l) => l.includes('"level":40') && l.includes('syslog listeners take no token'))
    for (const tokens of [{ authToken: 'syslog-test-token-0123456' }, { ingestToken: 'syslog-test-token-0123456' }, {}]) {
      const lines: string[] = []
      const s = await startTestServer({ shards: 1, syslogUdpPort: 0, ...tokens }, lines)
      await s.close()
      expect(warned(lines), JSON.stringify(tokens)).toBe(Object.keys(tokens).length > 0)
    }
  })
})

describe('syslog over UDP', () => {
  it('takes one message per datagram, and drops binary ones', async () => {
    const t = msAgo(1000)
    const socket = createSocket('udp4')
    const send = async (msg: string | Buffer): Promise<void> => { await new Promise<void>((resolve, reject) => socket.send(msg, udpPort, '127.0.0.1', (err) => err ? reject(err) : resolve())) }
    await send(`<165>1 ${iso(t)} udp-host udp-app 12 - - over udp\n`)
    await send(Buffer.from([0x00, 0xff, 0x00, 0xfe]))
    await send(`<165>${bsd(t / 1000 + 1000)} udp-host udp-app: bsd over udp`)
    socket.close()
    const logs = await waitFor('service=udp-app', 2)
    expect(logs).toEqual([
      { service: 'udp-app', timestamp: formatTimestamp(t), message: 'over udp', attributes: { severity: 'notice', facility: 'local4', hostname: 'udp-host', procid: '12' } },
      { service: 'udp-app', timestamp: formatTimestamp(Math.floor(t / 1e6 + 1) * 1e6), message: 'bsd over udp', attributes: { severity: 'notice', facility: 'local4', hostname: 'udp-host' } }
    ])
    expect(await eventually(() => server.syslog!.stats.dropped.garbage === 2, 2000)).toBe(true)
  })
})

describe('the server log', () => {
  it('counts what was dropped and cut when the listeners stop', async () => {
    await server.close()
    const stopped = logLines.map((l) => JSON.parse(l) as { msg: string, syslog?: Record<string, unknown> }).find((l) => l.msg === 'syslog listeners stopped')
    expect(stopped?.syslog).toMatchObject({ truncated: 2, retimed: 1, dropped: { garbage: 2, refused: 0 }, disconnected: { garbage: 1, stalled: 1 } })
    expect(logLines.some((l) => l.includes('"level":40') && l.includes('frames dropped'))).toBe(true)
  })
})
