import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { recordProblem, type LogRecord } from '../ingest/record.js'
import type { Settings } from '../settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../timestamp.js'
import { frameRecord, newStats, type SyslogStats } from './frame-record.js'
import { Framer, type Frame } from './framing.js'

export type { SyslogStats }

// Syslog listeners, TCP and UDP, feeding the same router as HTTP ingest.
//
//   TCP socket ──► Framer (octet counting | LF | NUL | next <PRI>) ──► frameRecord ──► router.ingest
//                  socket paused while its frames are stored (and while the
//                  queue is full), so a fast sender is slowed by TCP itself
//   UDP datagram ──► frameRecord ──► one batch per event-loop turn ──► router.ingest
//                  nothing waits: what cannot be stored at once is dropped
//
// Syslog has no acknowledgement, so nothing is refused back: a frame that
// cannot be stored is counted, and the counts are logged (warn) every
// REPORT_MS while they grow, and in full at close. A TCP client that sends
// binary garbage, stops in the middle of a frame for REQUEST_TIMEOUT, or
// sends nothing for SYSLOG_IDLE_TIMEOUT, is disconnected; past
// SYSLOG_MAX_CONNECTIONS new ones are closed at once; the other clients
// never notice. Syslog has no authentication: tokens do not apply here.

export interface SyslogListener {
  readonly tcpPort: number | null
  readonly udpPort: number | null
  readonly stats: SyslogStats
  /** Stops listening, ends the connections and waits for the frames already read to be stored. */
  close (): Promise<void>
}

/** How often grown drop counts are logged. */
const REPORT_MS = 10_000
/**
 * A newline-less sender's last message is ended after this long without bytes
 * (framing.ts `waiting`): one write of a message arrives within a few ms on a
 * LAN, and a second is what rsyslog-less senders such as Python's handler
 * can wait for their last line to show.
 */
const QUIET_MS = 1000
/** TCP keepalive's first probe after this much silence: a peer gone without a FIN frees its connection slot. */
const KEEPALIVE_MS = 60_000
/** A TCP sender whose frames meet a full queue is held (its socket paused) up to this long before they are dropped. */
const QUEUE_FULL_WAIT_MS = 30_000

/** Binds a TCP server or UDP socket; a failure names the setting (main prints it as is). */
async function listen (target: Server | UdpSocket, port: number, host: string, setting: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => reject(new Error(`could not listen for syslog on ${host}:${port} (${setting}): ${err.message}`))
    target.once('error', fail)
    const ready = (): void => {
      target.off('error', fail)
      resolve()
    }
    if ('bind' in target) target.bind(port, host, ready)
    else target.listen(port, host, ready)
  })
  return (target.address() as AddressInfo).port
}

/** Starts the listeners SYSLOG_TCP_PORT and SYSLOG_UDP_PORT ask for; null when neither is set. */
export async function startSyslog (settings: Settings, router: ShardRouter, log: Logger, reportMs = REPORT_MS): Promise<SyslogListener | null> {
  if (settings.syslogTcpPort < 0 && settings.syslogUdpPort < 0) return null
  const host = settings.syslogHost === '' ? settings.host : settings.syslogHost
  const stats = newStats()
  const inflight = new Set<Promise<void>>()
  let closing = false

  const window = (): [number, number] => {
    const now = nowUs()
    return [now - settings.retention * 1000, now + settings.futureSkew * 1000]
  }

  /** Stores records; a full queue is waited out (TCP) up to `waitMs`; anything else refused is counted. */
  async function store (records: LogRecord[], waitMs: number): Promise<void> {
    const valid = records.filter((r) => recordProblem(r, -Infinity, Infinity) === null)
    stats.dropped.refused += records.length - valid.length
    if (records.length > valid.length) router.meter.rejected('syslog', 'invalid', records.length - valid.length)
    if (valid.length === 0) return
    const until = Date.now() + waitMs
    for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
      try {
        const { full } = await router.ingest(valid, 'syslog')
        stats.stored += valid.length - full.length
        stats.dropped.refused += full.length
        return
      } catch (err) {
        // A full queue refuses before anything is stored, so trying again cannot duplicate.
        if ((err as { code?: string }).code !== 'LOGAGG_ERR_QUEUE_FULL' || closing || Date.now() + delay > until) {
          stats.dropped.refused += valid.length
          return
        }
        stats.queueFullWaits++
        await sleep(delay)
      }
    }
  }

  /** Keeps a store in `inflight` until it settles (close waits for them); it never rejects. */
  const track = (p: Promise<void>): Promise<void> => {
    const tracked = p.catch((err: unknown) => { log.error({ err }, 'syslog: storing frames failed') }).finally(() => inflight.delete(tracked))
    inflight.add(tracked)
    return tracked
  }

  // ── TCP ──
  let tcp: Server | null = null
  let tcpPort: number | null = null
  const connections = new Set<Socket>()
  const onConnection = (socket: Socket): void => {
    if (closing) {
      socket.destroy()
      return
    }
    if (connections.size >= settings.syslogMaxConnections) {
      // Counted, and logged by the report below; a sender that reconnects gets in once others leave.
      stats.disconnected.overLimit++
      socket.destroy()
      return
    }
    connections.add(socket)
    // Peers that vanished without a FIN are found by keepalive probes; live but silent ones by the idle timer.
    socket.setKeepAlive(true, KEEPALIVE_MS)
    const idle = setTimeout(() => {
      stats.disconnected.idle++
      socket.destroy()
    }, settings.syslogIdleTimeout).unref()
    const framer = new Framer(settings.maxBody)
    let busy = false
    const take = (frames: Frame[]): LogRecord[] | null => {
      const [oldest, newest] = window()
      const arrival = nowUs()
      const records: LogRecord[] = []
      for (const frame of frames) {
        stats.received++
        const record = frameRecord(frame, arrival, oldest, newest, stats)
        if (record === null) continue
        if (record !== 'garbage') {
          records.push(record)
        } else {
          stats.dropped.garbage++
          stats.disconnected.garbage++
          socket.destroy()
          break
        }
      }
      return records.length > 0 ? records : null
    }
    const storeFrames = (frames: Frame[]): void => {
      const records = take(frames)
      if (records === null) return
      busy = true
      socket.pause()
      track(store(records, QUEUE_FULL_WAIT_MS)).then(() => {
        busy = false
        if (!socket.destroyed) socket.resume()
      })
    }
    let quiet: NodeJS.Timeout | null = null
    const flushQuiet = (): void => {
      // Still storing the frames before it: look again later, so frames are stored in order.
      quiet = busy ? setTimeout(flushQuiet, QUIET_MS) : null
      if (busy) return
      const frame = framer.flush()
      if (frame !== null) storeFrames([frame])
    }
    socket.on('data', (chunk: Buffer) => {
      idle.refresh()
      if (quiet !== null) clearTimeout(quiet)
      storeFrames(framer.push(chunk))
      quiet = framer.waiting ? setTimeout(flushQuiet, QUIET_MS) : null
    })
    socket.on('end', () => {
      if (quiet !== null) clearTimeout(quiet)
      const last = framer.end()
      if (last !== null) storeFrames([last])
      socket.end()
    })
    // Idle between frames is normal (senders keep the connection open); idle inside one is a stall.
    socket.setTimeout(settings.requestTimeout)
    socket.on('timeout', () => {
      // A newline-less sender's last message (the quiet timer ends it), not a stall.
      if (framer.waiting) return
      if (framer.pending === 0) return
      // Paused by us while its frames are stored: not the client's stall; look again later.
      if (busy) {
        socket.setTimeout(settings.requestTimeout)
        return
      }
      stats.disconnected.stalled++
      const partial = framer.end()
      if (partial !== null) storeFrames([partial])
      socket.destroy()
    })
    socket.on('error', () => {}) // a reset or a write error only ends this connection
    socket.on('close', () => {
      clearTimeout(idle)
      if (quiet !== null) clearTimeout(quiet)
      connections.delete(socket)
      if (closing && framer.pending > 0) stats.dropped.unfinished++
    })
  }
  if (settings.syslogTcpPort >= 0) {
    tcp = createServer(onConnection)
    tcpPort = await listen(tcp, settings.syslogTcpPort, host, 'SYSLOG_TCP_PORT')
  }

  // ── UDP ──
  let udp: UdpSocket | null = null
  let udpPort: number | null = null
  if (settings.syslogUdpPort >= 0) {
    let batch: LogRecord[] = []
    const flush = (): void => {
      const records = batch
      batch = []
      track(store(records, 0))
    }
    udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' })
    udp.on('message', (msg: Buffer) => {
      stats.received++
      const [oldest, newest] = window()
      const frame = msg.length > settings.maxBody ? { bytes: msg.subarray(0, settings.maxBody), truncated: true } : { bytes: msg, truncated: false }
      const record = frameRecord(frame, nowUs(), oldest, newest, stats)
      if (record === null) return
      if (record === 'garbage') {
        stats.dropped.garbage++
        return
      }
      if (batch.length === 0) setImmediate(flush)
      batch.push(record)
    })
    udp.on('error', (err) => log.error({ err }, 'syslog UDP socket error'))
    try {
      udpPort = await listen(udp, settings.syslogUdpPort, host, 'SYSLOG_UDP_PORT')
    } catch (err) {
      tcp?.close()
      udp.close()
      throw err
    }
  }

  // Drop counts, logged while they grow.
  const counts = (): string => JSON.stringify([stats.dropped, stats.disconnected, stats.truncated, stats.retimed])
  let reported = counts()
  const report = (): void => {
    const now = counts()
    if (now === reported) return
    reported = now
    log.warn({ syslog: stats }, 'syslog: frames dropped, cut, retimed or clients disconnected (totals since start)')
  }
  const timer = setInterval(report, reportMs).unref()

  log.info({ tcpPort, udpPort, host }, 'syslog listening')
  if (settings.authToken !== '' || settings.ingestToken !== '') {
    log.warn({ tcpPort, udpPort }, 'syslog listeners take no token: anyone who can reach them can write entries, whatever AUTH_TOKEN / INGEST_TOKEN say; bind them to a trusted address (SYSLOG_HOST) or firewall them')
  }
  return {
    tcpPort,
    udpPort,
    stats,
    async close () {
      if (closing) return
      closing = true
      clearInterval(timer)
      const stopped = tcp === null ? Promise.resolve() : new Promise<void>((resolve) => tcp!.close(() => resolve()))
      for (const socket of connections) socket.destroy()
      udp?.close()
      await stopped
      while (inflight.size > 0) await Promise.allSettled([...inflight])
      report()
      log.info({ syslog: stats }, 'syslog listeners stopped')
    }
  }
}
