import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

// node:http hands every request with an Upgrade header to 'upgrade' once any
// listener is registered (ours serves Loki's tail WebSocket), whatever the
// protocol asked for, and the connection leaves the HTTP parser. Java 17's
// default HttpClient asks for h2c on every first request to an http:// URL
// ("Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c"), so none of its
// requests reached a route: each was answered "404 no WebSocket at /logs".
// An upgrade may be ignored (RFC 9110 §7.8): a request that does not ask for
// a WebSocket is given back to the HTTP server as the plain HTTP/1.1 request
// it also is, without its Upgrade headers, followed by the bytes already read
// after it, and is then answered like any other (routes, limits, keep-alive).
//
//   Upgrade: websocket ──► `websocket` (the tail)
//   Upgrade: h2c, ...  ──► head rewritten ──► socket.unshift ──► server 'connection' ──► routes

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/** Headers that only ask for the upgrade; dropped, and their names dropped from Connection. */
const UPGRADE_ONLY = new Set(['upgrade', 'http2-settings'])

/** True when the Upgrade header names websocket among its protocols. */
export function asksForWebSocket (upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.split(',').some((p) => p.trim().toLowerCase() === 'websocket')
}

/** The request's head as it was sent, minus what asks for the upgrade. */
export function plainHead (req: IncomingMessage): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`]
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    const lower = name.toLowerCase()
    if (UPGRADE_ONLY.has(lower)) continue
    if (lower === 'connection') {
      const rest = raw[i + 1]!.split(',').map((t) => t.trim()).filter((t) => t !== '' && !UPGRADE_ONLY.has(t.toLowerCase()))
      if (rest.length > 0) lines.push(`${name}: ${rest.join(', ')}`)
      continue
    }
    lines.push(`${name}: ${raw[i + 1]!}`)
  }
  return `${lines.join('\r\n')}\r\n\r\n`
}

/** The 'upgrade' listener: WebSockets to `websocket`, every other upgrade served as plain HTTP/1.1. */
export function upgradeOnlyWebSockets (server: Server, websocket: UpgradeListener): UpgradeListener {
  return (req, socket, head) => {
    if (asksForWebSocket(req.headers.upgrade)) {
      websocket(req, socket, head)
      return
    }
    // Node decodes header bytes as latin1, so latin1 gives back the bytes sent.
    socket.unshift(Buffer.concat([Buffer.from(plainHead(req), 'latin1'), head]))
    server.emit('connection', socket as Socket)
  }
}
