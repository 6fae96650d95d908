import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { getJson, isoAt, postJson, runMain, spawnServer } from './helpers.js'

describe('npm start (dist/src/main.js)', () => {
  it('logs one JSON line with the effective settings, flags winning over the environment', async () => {
    const { child, url, lines } = await spawnServer({ SHARDS: '3', RETENTION: '2h' }, ['--shards', '2', '--purge-interval', '90s'])
    try {
      const start = JSON.parse(lines.find((l) => l.includes('"listening"'))!)
      expect(start.settings).toMatchObject({ shards: 2, retention: 7_200_000, purgeInterval: 90_000, host: '127.0.0.1' })
      expect((await getJson(url, '/healthz')).status).toBe(200)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('finishes, keeps what it acknowledged until exit and exits 0 on SIGTERM', async () => {
    const { child, url, lines } = await spawnServer({})
    expect((await postJson(url, { service: 's', timestamp: isoAt(0), message: 'm' })).status).toBe(201)
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
    expect(lines.some((l) => l.includes('"stopped"'))).toBe(true)
  })

  it('logs the front thread\'s event-loop delay on SIGUSR2 and keeps serving', async () => {
    const { child, url, lines } = await spawnServer({})
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)) // some samples first
      child.kill('SIGUSR2')
      const deadline = Date.now() + 5000
      while (!lines.some((l) => l.includes('"event loop delay"')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      const record = JSON.parse(lines.find((l) => l.includes('"event loop delay"'))!) as { eventLoopDelay: { maxMs: number, p99Ms: number, meanMs: number } }
      expect(record.eventLoopDelay.maxMs).toBeGreaterThanOrEqual(0)
      expect(record.eventLoopDelay.maxMs).toBeLessThan(60_000)
      expect(record.eventLoopDelay.p99Ms).toBeLessThanOrEqual(record.eventLoopDelay.maxMs)
      expect((await getJson(url, '/healthz')).status).toBe(200)
    } finally {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  })

  it('exits 0 on SIGINT', async () => {
    const { child } = await spawnServer({})
    child.kill('SIGINT')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
  })

  const bad: Array<[Record<string, string>, string[], RegExp]> = [
    [{ PORT: '70000' }, [], /^logagg: PORT is "70000": expected a port number from 0 to 65535$/],
    [{}, ['--shards', '0'], /^logagg: --shards is "0": expected a whole number from 1 to 256$/],
    [{ RETENTION: '1 hour' }, [], /^logagg: RETENTION is "1 hour": expected a positive duration with a unit/],
    [{ PURGE_INTERVAL: '60' }, [], /^logagg: PURGE_INTERVAL is "60": expected a positive duration/],
    [{ MAX_BODY: 'lots' }, [], /^logagg: MAX_BODY is "lots": expected a positive size/],
    [{}, ['--future-skew=-5m'], /^logagg: --future-skew is "-5m": expected a positive duration/],
    [{}, ['--future-skew', '-5m'], /^logagg: Option '--future-skew' argument is ambiguous/],
    [{}, ['--nope'], /Unknown option '--nope'/]
  ]
  for (const [env, args, message] of bad) {
    it(`stops at start with one line for ${JSON.stringify({ ...env, args })}`, async () => {
      const { code, stdout, stderr } = await runMain({ PORT: '0', ...env }, args)
      expect(code).toBe(2)
      expect(stdout).toBe('')
      const lines = stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(message)
    })
  }

  it('stops at start with one line for HEADERS_TIMEOUT longer than a shorter REQUEST_TIMEOUT, and starts with REQUEST_TIMEOUT alone', async () => {
    const both = await runMain({ PORT: '0', HEADERS_TIMEOUT: '10s', REQUEST_TIMEOUT: '5s' })
    expect(both.code).toBe(2)
    expect(both.stderr).toBe('logagg: HEADERS_TIMEOUT (10000ms) is longer than REQUEST_TIMEOUT (5000ms): the headers are part of the request; make it at most the request timeout\n')
    const { child, url } = await spawnServer({ REQUEST_TIMEOUT: '5s' })
    try {
      expect((await getJson(url, '/healthz')).status).toBe(200)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('stops with one line, no stack, when it cannot listen: busy port, no such address, a host that does not resolve', async () => {
    const { child, url } = await spawnServer({})
    try {
      const port = new URL(url).port
      const busy = await runMain({ PORT: port, SHARDS: '1' })
      expect(busy.code).toBe(1)
      expect(busy.stderr).toBe(`logagg: cannot listen on 127.0.0.1:${port}: address in use; choose another PORT or stop what holds it\n`)
      expect(busy.stdout).not.toMatch(/stack|at /)
    } finally {
      child.kill('SIGKILL')
    }
    const unresolvable = await runMain({ PORT: '0', SHARDS: '1' }, ['--host', '999.1.1.1'])
    expect(unresolvable.code).toBe(1)
    expect(unresolvable.stderr).toBe('logagg: cannot listen on 999.1.1.1:0: not an address nor a host name that resolves; check HOST\n')
    expect(unresolvable.stdout).not.toMatch(/stack/)
    // TEST-NET-1 (RFC 5737): never an address of this machine.
    const foreign = await runMain({ PORT: '0', SHARDS: '1', HOST: '192.0.2.1' })
    expect(foreign.code).toBe(1)
    expect(foreign.stderr).toBe('logagg: cannot listen on 192.0.2.1:0: no such address on this machine; set HOST to one of its addresses, or 0.0.0.0 for all\n')
  })

  it('serves syslog when SYSLOG_TCP_PORT is set, and stops at start naming it when its port is taken', async () => {
    const { child, lines } = await spawnServer({ SYSLOG_TCP_PORT: '0', SYSLOG_UDP_PORT: '0' })
    const listening = lines.map((l) => JSON.parse(l) as { msg: string, tcpPort?: number, udpPort?: number }).find((l) => l.msg === 'syslog listening')
    expect(listening?.tcpPort).toBeGreaterThan(0)
    expect(listening?.udpPort).toBeGreaterThan(0)
    const taken = await runMain({ PORT: '0', SHARDS: '1', SYSLOG_TCP_PORT: String(listening!.tcpPort) })
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/could not listen for syslog on 127\.0\.0\.1:\d+ \(SYSLOG_TCP_PORT\): .*EADDRINUSE/)
    child.kill('SIGTERM')
    await once(child, 'exit')
  })

  it('prints the settings with --help', async () => {
    const { code, stdout } = await runMain({}, ['--help'])
    expect(code).toBe(0)
    for (const flag of ['--port', '--host', '--shards', '--retention', '--purge-interval', '--max-body', '--future-skew']) expect(stdout).toContain(flag)
  })
})
