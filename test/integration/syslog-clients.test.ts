import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, readAll, startTestServer, type LogLine, type RunningServer } from './helpers.js'
import { program } from '../programs.js'

// Real clients, unmodified: util-linux `logger --rfc5424` over UDP and TCP
// (both framings), and rsyslog (Debian's rsyslog and rsyslog-elasticsearch;
// npm run setup installs them) reading temporary files with imfile and shipping
// them with omelasticsearch to POST /_bulk and with omfwd (RFC 5424, octet
// counting, TCP) to the syslog port. Every line is read back with GET /logs.
// A missing rsyslogd or logger fails these tests; it never skips them.

const run = promisify(execFile)
const TOKEN = 'rsyslog-ingest-token-0123'
let server: RunningServer
let dir: string
let rsyslog: ChildProcess | null = null
let rsyslogOutput = ''

beforeAll(async () => {
  // With an ingest token: omelasticsearch sends it as its Basic auth password (reads stay open).
  server = await startTestServer({ shards: 2, syslogTcpPort: 0, syslogUdpPort: 0, ingestToken: TOKEN })
  dir = mkdtempSync(join(tmpdir(), 'logagg-rsyslog-'))
})
afterAll(async () => {
  if (rsyslog !== null && rsyslog.exitCode === null) {
    rsyslog.kill('SIGTERM')
    await once(rsyslog, 'exit')
  }
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

async function waitFor (params: string, count: number, ms = 15_000): Promise<LogLine[]> {
  let logs: LogLine[] = []
  await eventually(async () => (logs = await readAll(server.url, params)).length >= count, ms)
  return logs
}

/** Asserts each entry's time lies between `from` and `to` (epoch ms), as the sender's clock stamped it. */
function expectTimesWithin (logs: LogLine[], from: number, to: number): void {
  for (const l of logs) {
    const ms = Date.parse(l.timestamp)
    expect(ms, l.timestamp).toBeGreaterThanOrEqual(from - 1)
    expect(ms, l.timestamp).toBeLessThanOrEqual(to + 1)
  }
}

const host = hostname()
const shortHost = host.split('.')[0]!

describe('util-linux logger --rfc5424', () => {
  it('over UDP: app name, severity, facility, msgid and structured data', async () => {
    const logger = program('logger', 'bsdutils')
    const from = Date.now()
    await run(logger, ['--rfc5424', '--udp', '-n', '127.0.0.1', '-P', String(server.syslog!.udpPort), '-t', 'logger-udp', '-p', 'local3.warning',
      '--msgid', 'M1', '--sd-id', 'test@32473', '--sd-param', 'k="v w"', 'hello over UDP'])
    const logs = await waitFor('service=logger-udp', 1)
    expectTimesWithin(logs, from, Date.now())
    expect(logs).toEqual([{
      service: 'logger-udp',
      timestamp: expect.any(String),
      message: 'hello over UDP',
      attributes: expect.objectContaining({ severity: 'warning', facility: 'local3', msgid: 'M1', 'sd.test@32473.k': 'v w', 'sd.timeQuality.tzKnown': '1' })
    }])
    expect([host, shortHost]).toContain(logs[0]!.attributes!.hostname)
  })

  it('over TCP, with octet counting and with newline framing', async () => {
    const logger = program('logger', 'bsdutils')
    const from = Date.now()
    const port = String(server.syslog!.tcpPort)
    await run(logger, ['--rfc5424', '--tcp', '--octet-count', '-n', '127.0.0.1', '-P', port, '-t', 'logger-tcp', '--id=4242', '-p', 'daemon.err', 'octet counted'])
    await run(logger, ['--rfc5424', '--tcp', '-n', '127.0.0.1', '-P', port, '-t', 'logger-tcp', '-p', 'user.info', 'newline framed'])
    const logs = await waitFor('service=logger-tcp', 2)
    expectTimesWithin(logs, from, Date.now())
    expect(logs.map((l) => [l.message, l.attributes!.severity, l.attributes!.facility, l.attributes!.procid])).toEqual([
      ['octet counted', 'err', 'daemon', '4242'],
      ['newline framed', 'info', 'user', undefined]
    ])
  })
})

describe('rsyslog', () => {
  it('imfile → omelasticsearch (POST /_bulk) and omfwd (RFC 5424, octet counted, TCP): lines come back with service, time and attributes', async () => {
    const rsyslogd = program('rsyslogd', 'rsyslog rsyslog-elasticsearch')
    const file = (name: string): string => join(dir, name)
    mkdirSync(file('work'))
    writeFileSync(file('es.log'), 'es line one\nes line "two", quoted\n')
    writeFileSync(file('default.log'), 'default template line\n')
    writeFileSync(file('fwd.log'), 'fwd line one\n')
    const conf = `
global(workDirectory="${file('work')}")
module(load="imfile")
module(load="omelasticsearch")
# A JSON document per line, in field names the bulk endpoint maps by default.
template(name="es-doc" type="list" option.json="on") {
  constant(value="{\\"@timestamp\\":\\"") property(name="timereported" dateFormat="rfc3339")
  constant(value="\\",\\"message\\":\\"") property(name="msg")
  constant(value="\\",\\"programname\\":\\"") property(name="programname")
  constant(value="\\",\\"host\\":\\"") property(name="hostname")
  constant(value="\\",\\"severity\\":\\"") property(name="syslogseverity-text")
  constant(value="\\"}")
}
input(type="imfile" File="${file('es.log')}" Tag="rsyslog-es:" Severity="info" Facility="local1" ruleset="to-es")
input(type="imfile" File="${file('default.log')}" Tag="rsyslog-default:" ruleset="to-es-default")
input(type="imfile" File="${file('fwd.log')}" Tag="rsyslog-fwd:" Severity="warning" Facility="local2" ruleset="to-syslog")
ruleset(name="to-es") {
  action(type="omelasticsearch" server="127.0.0.1" serverport="${server.port}" template="es-doc" searchIndex="rsyslog-index" bulkmode="on" uid="rsyslog" pwd="${TOKEN}" errorfile="${file('es-errors.json')}")
}
# rsyslog's own default document (message, fromhost, facility, priority, timereported, timegenerated): the service is the index.
ruleset(name="to-es-default") {
  action(type="omelasticsearch" server="127.0.0.1" serverport="${server.port}" searchIndex="rsyslog-default" bulkmode="on" uid="rsyslog" pwd="${TOKEN}" errorfile="${file('es-errors.json')}")
}
ruleset(name="to-syslog") {
  action(type="omfwd" target="127.0.0.1" port="${server.syslog!.tcpPort}" protocol="tcp" tcp_framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
}
`
    writeFileSync(file('rsyslog.conf'), conf)
    const from = Date.now()
    rsyslog = spawn(rsyslogd, ['-n', '-f', file('rsyslog.conf'), '-i', file('rsyslog.pid')], { stdio: ['ignore', 'pipe', 'pipe'] })
    rsyslog.stdout!.on('data', (d: Buffer) => { rsyslogOutput += d.toString() })
    rsyslog.stderr!.on('data', (d: Buffer) => { rsyslogOutput += d.toString() })
    const diagnose = (): string => `rsyslogd said: ${rsyslogOutput || '(nothing)'}; exit code ${rsyslog!.exitCode}; ES errors: ${(() => { try { return readFileSync(file('es-errors.json'), 'utf8') } catch { return '(none)' } })()}`

    const es = await waitFor('service=rsyslog-es', 2)
    expect(es.length, diagnose()).toBe(2)
    // imfile tails: a line appended later is shipped too.
    appendFileSync(file('fwd.log'), 'fwd line two\n')
    const fwd = await waitFor('service=rsyslog-fwd', 2)
    expect(fwd.length, diagnose()).toBe(2)
    const plain = await waitFor('service=rsyslog-default', 1)
    expect(plain.length, diagnose()).toBe(1)
    const to = Date.now()

    expectTimesWithin([...es, ...fwd, ...plain], from, to)
    expect(es.map((l) => [l.message, l.attributes])).toEqual([
      ['es line one', { host: shortHost, severity: 'info' }],
      ['es line "two", quoted', { host: shortHost, severity: 'info' }]
    ])
    expect(fwd.map((l) => [l.message, l.attributes])).toEqual([
      ['fwd line one', { severity: 'warning', facility: 'local2', hostname: shortHost }],
      ['fwd line two', { severity: 'warning', facility: 'local2', hostname: shortHost }]
    ])
    expect(plain[0]).toMatchObject({ message: 'default template line', attributes: { fromhost: shortHost, facility: 'local0', priority: 'notice' } })
    // rsyslog's own timestamps, µs included, are what was stored.
    expect(Date.parse(plain[0]!.attributes!.timegenerated!)).toBe(Math.floor(Date.parse(plain[0]!.timestamp)))
  })
})
