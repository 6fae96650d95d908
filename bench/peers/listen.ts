import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

// What the peers share with the real server's start-up contract, so the bench
// fixture treats all three alike: listen on HOST/PORT (127.0.0.1 and a free
// port unless set), print a JSON line with msg "listening" and the url, answer
// GET /healthz (each peer's own handler), and exit on SIGTERM or SIGINT.

export function listen (server: Server, name: string): void {
  const host = process.env.HOST ?? '127.0.0.1'
  const port = Number(process.env.PORT ?? 0)
  server.listen(port, host, () => {
    const { port: bound } = server.address() as AddressInfo
    const shown = host.includes(':') ? `[${host}]` : host
    console.log(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, name, msg: 'listening', url: `http://${shown}:${bound}` }))
  })
  const stop = (): void => {
    server.close(() => process.exit(0))
    server.closeAllConnections()
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
