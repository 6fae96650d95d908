import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { program } from '../programs.js'
import { eventually, readAll, startTestServer, type LogLine, type RunningServer } from './helpers.js'

// Python's standard library loggers, unmodified, run by the real python3:
// logging.handlers.SysLogHandler over UDP and TCP (with its default trailing
// NUL, and with append_nul=False, which sends messages with no delimiter at
// all), and logging.handlers.HTTPHandler (a form-encoded LogRecord per POST).
// Each entry is read back with GET /logs. A missing python3 fails the tests.

let server: RunningServer

const python = (): string => program('python3', 'python3')

beforeAll(async () => {
  server = await startTestServer({ shards: 2, syslogTcpPort: 0, syslogUdpPort: 0 })
})
afterAll(async () => { await server.close() })

/**
 * Runs `script` (argv[1] is the port) with logging set up by it; resolves once it
 * printed `sent`, and returns a function that lets it finish (closes its stdin) and
 * waits for its exit, so a test can look before the handler closes its socket.
 */
async function runPython (script: string, port: number): Promise<() => Promise<void>> {
  const child = spawn(python(), ['-c', script, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = once(child, 'exit') as Promise<[number | null]>
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => { if (line === 'sent') resolve() })
    exited.then(([code]) => reject(new Error(`python3 exited with ${code} before sending: ${stderr}`)), reject)
  })
  return async () => {
    child.stdin!.end()
    const [code] = await exited
    // SysLogHandler and HTTPHandler print a traceback on stderr for a record they failed to send.
    expect(stderr).toBe('')
    expect(code).toBe(0)
  }
}

const SYSLOG = (setup: string, logger = 'py.app'): string => `
import logging, logging.handlers, socket, sys
port = int(sys.argv[1])
${setup}
log = logging.getLogger('${logger}')
log.propagate = False
log.setLevel(logging.INFO)
log.addHandler(h)
log.info('first %s', 'one')
log.warning('second has <b> and a colon: here')
log.error('third')
print('sent', flush=True)
sys.stdin.read()
h.close()
`

async function waitFor (service: string, count: number): Promise<LogLine[]> {
  let logs: LogLine[] = []
  await eventually(async () => (logs = await readAll(server.url, `service=${encodeURIComponent(service)}`)).length >= count, 10_000)
  return logs
}

const WANT = [
  { message: 'first one', severity: 'info' },
  { message: 'second has <b> and a colon: here', severity: 'warning' },
  { message: 'third', severity: 'err' }
]
const shape = (logs: LogLine[]): Array<{ message: string, severity: string | undefined }> => logs.map((l) => ({ message: l.message, severity: l.attributes?.severity }))

describe('logging.handlers.SysLogHandler', () => {
  const cases: Array<[string, string, () => number]> = [
    ['UDP (one datagram each, a trailing NUL)', "h = logging.handlers.SysLogHandler(address=('127.0.0.1', port))", () => server.syslog!.udpPort!],
    ['TCP with its default trailing NUL', "h = logging.handlers.SysLogHandler(address=('127.0.0.1', port), socktype=socket.SOCK_STREAM)", () => server.syslog!.tcpPort!],
    ['TCP with append_nul=False (no delimiter at all)', "h = logging.handlers.SysLogHandler(address=('127.0.0.1', port), socktype=socket.SOCK_STREAM)\nh.append_nul = False", () => server.syslog!.tcpPort!]
  ]
  for (const [name, setup, port] of cases) {
    it(`${name}: one entry per record, service from the %(name)s: tag, before the handler closes`, async () => {
      const service = `py.${name.split(' ')[0]!.toLowerCase()}.${setup.includes('append_nul') ? 'nonul' : 'nul'}`
      const script = SYSLOG(`${setup}\nh.setFormatter(logging.Formatter('%(name)s: %(message)s'))`, service)
      const finish = await runPython(script, port())
      // Still connected: the last newline-less message is ended by the quiet moment after it, not by the close.
      const logs = await waitFor(service, 3)
      await finish()
      expect(shape(logs)).toEqual(WANT)
      expect(await readAll(server.url, 'service=syslog')).toEqual([])
    })
  }

  it('with an ident and the default formatter: the ident is the service', async () => {
    const finish = await runPython(SYSLOG("h = logging.handlers.SysLogHandler(address=('127.0.0.1', port), socktype=socket.SOCK_STREAM)\nh.ident = 'py-ident '"), server.syslog!.tcpPort!)
    const logs = await waitFor('py-ident', 3)
    await finish()
    expect(shape(logs)).toEqual(WANT)
  })
})

describe('logging.handlers.HTTPHandler', () => {
  it('POSTs each record as a form to /logs: stored with its logger as service, msg, created and level', async () => {
    const before = Date.now()
    const script = `
import logging, logging.handlers, sys
port = int(sys.argv[1])
h = logging.handlers.HTTPHandler('127.0.0.1:%d' % port, '/logs', method='POST')
log = logging.getLogger('py.http')
log.propagate = False
log.setLevel(logging.INFO)
log.addHandler(h)
log.info('user %s logged in', 'bob')
log.error('payment failed')
print('sent', flush=True)
sys.stdin.read()
`
    const finish = await runPython(script, Number(new URL(server.url).port))
    await finish()
    const logs = await readAll(server.url, 'service=py.http')
    expect(logs.map((l) => [l.message, l.attributes?.level, l.attributes?.args, l.attributes?.funcName])).toEqual([
      ['user %s logged in', 'INFO', "('bob',)", '<module>'],
      ['payment failed', 'ERROR', undefined, '<module>']
    ])
    for (const l of logs) {
      expect(Date.parse(l.timestamp)).toBeGreaterThanOrEqual(before - 1)
      expect(Date.parse(l.timestamp)).toBeLessThanOrEqual(Date.now())
    }
  })
})
