import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net'
import type { Logger } from 'pino'
import type { Rejected } from '../ingest/batch.js'
import { decodedRecords, type DecodedRecords } from '../ingest/decoded.js'
import { acceptanceWindow } from '../ingest/entry.js'
import { meterInvalid, submitDecoded } from '../shards/ingest-pipeline.js'
import { recordProblem, type LogRecord } from '../ingest/record.js'
import type { Settings } from '../settings/settings.js'
import type { ShardRouter } from '../shards/router.js'
import { nowUs } from '../core/timestamp.js'
import { frameRecord, newStats, type SyslogStats } from './frame-record.js'
import { Framer, type Frame } from './framing.js'

export type { SyslogStats }

// Syslog listeners, TCP and UDP, feeding the same router as HTTP ingest.
//
//   TCP socket ──► Framer (octet counting | LF | NUL | next <PRI>) ──► frameRecord ──► router.ingest
//                  in order, IN_FLIGHT batches at most; the socket is paused past
//                  that and while the queue is full, so a fast sender is slowed by TCP itself
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
/** A TCP sender's batches handed to the router and not yet stored, at most. */
const IN_FLIGHT = 2
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

  /** A frame batch's records, checked: those the router would refuse anyway are counted here, once. */
  const storable = (records: LogRecord[]): DecodedRecords<Rejected> => {
    const decoded = decodedRecords(records.map((r) => recordProblem(r, -Infinity, Infinity) ?? r))
    stats.dropped.refused += decoded.invalidCount
    meterInvalid(router, 'syslog', decoded)
    return decoded
  }

  /**
   * Hands a batch's valid records to the shards (shards/ingest-pipeline.ts):
   * 'full' when a shard's queue is full and nothing was taken (the router
   * refuses before it stores anything, so trying again cannot duplicate);
   * else the promise of their storage. Any other refusal is counted, as is
   * what the shards refuse.
   */
  const submit = (decoded: DecodedRecords<Rejected>, tenant: string): Promise<void> | 'full' => {
    let stored
    try {
      stored = submitDecoded(router, 'syslog', decoded, tenant)
    } catch (err) {
      if ((err as { code?: string }).code === 'LOGAGG_ERR_QUEUE_FULL' && !closing) return 'full'
      stats.dropped.refused += decoded.records.length
      return Promise.resolve()
    }
    return stored.then(({ stored, full }) => {
      stats.stored += stored
      stats.dropped.refused += full.length
    })
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
    const take = (frames: Frame[]): LogRecord[] | null => {
      const { oldest, newest } = acceptanceWindow(settings)
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
    // Batches go to the router in the order their frames arrived, up to IN_FLIGHT of them before
    // the first is stored (a sender is then read while its last batch is stored, rather than in
    // turns: bench (j)); past that, and while a full queue holds them, the socket is paused.
    const held: Array<DecodedRecords<Rejected>> = []
    let storing = 0
    let fullSince = 0
    let retry: NodeJS.Timeout | null = null
    let delay = 10
    // While batches wait out a full queue, close() waits for them too.
    let release: (() => void) | null = null
    /** Frames of this sender are still being stored (or wait to be): what comes next must wait behind them. */
    const busy = (): boolean => held.length > 0 || storing > 0
    const pump = (): void => {
      while (held.length > 0 && storing < IN_FLIGHT && retry === null) {
        const stored = submit(held[0]!, settings.syslogTcpTenant)
        if (stored === 'full') {
          if (fullSince === 0) fullSince = Date.now()
          if (Date.now() - fullSince > QUEUE_FULL_WAIT_MS) {
            for (const decoded of held.splice(0)) stats.dropped.refused += decoded.records.length
            fullSince = 0
            delay = 10
            break
          }
          stats.queueFullWaits++
          if (release === null) track(new Promise<void>((resolve) => { release = resolve }))
          retry = setTimeout(() => {
            retry = null
            pump()
          }, delay)
          delay = Math.min(delay * 2, 500)
          break
        }
        fullSince = 0
        delay = 10
        held.shift()
        storing++
        track(stored).then(() => {
          storing--
          pump()
        })
      }
      if (held.length === 0 && release !== null) {
        release()
        release = null
      }
      if (held.length > 0 || storing >= IN_FLIGHT) socket.pause()
      else if (!socket.destroyed) socket.resume()
    }
    const storeFrames = (frames: Frame[]): void => {
      const records = take(frames)
      if (records === null) return
      const decoded = storable(records)
      if (decoded.records.length > 0) held.push(decoded)
      pump()
    }
    let quiet: NodeJS.Timeout | null = null
    const flushQuiet = (): void => {
      // Still storing the frames before it: look again later, so frames are stored in order.
      quiet = busy() ? setTimeout(flushQuiet, QUIET_MS) : null
      if (busy()) return
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
      if (busy()) {
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
      const decoded = storable(batch)
      batch = []
      if (decoded.records.length === 0) return
      // Nothing waits on UDP: a full queue drops the batch.
      const stored = submit(decoded, settings.syslogUdpTenant)
      if (stored === 'full') stats.dropped.refused += decoded.records.length
      else track(stored)
    }
    udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' })
    udp.on('message', (msg: Buffer) => {
      stats.received++
      const { oldest, newest } = acceptanceWindow(settings)
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
