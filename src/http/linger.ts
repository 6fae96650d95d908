import type { IncomingMessage, Server } from 'node:http'
import { Socket } from 'node:net'

// Lingering close, as nginx's lingering_close. A refusal sent before the body
// was read (413 from Content-Length or as the body grows, 401 to a large
// upload) ends with Connection: close, and node:http then closes the socket
// at once (destroySoon: FIN, then close). Closing with the client's bytes
// still unread makes the kernel answer them with a reset, which reached most
// clients before our answer did: Python's urllib failed 3 times in 3 with
// EPIPE and Node's fetch 7-10 times in 10 per ingest route on a 17 MiB body
// (MAX_BODY 16 MiB), so shippers retried forever instead of splitting.
// Here the close waits: our side is shut (FIN after the answer) and the body
// is read and dropped until it ends, then the socket closes. Bounded: at most
// LINGER_BYTES (or 4 × MAX_BODY if larger), LINGER_IDLE_MS without a byte,
// LINGER_MS in all; past any of them the socket is cut as before.
//
//   answer written ──► FIN ──► read and drop the rest of the body ──► close
//                                 (bytes / idle / total bound ──► cut)

/** Bytes of an unwanted body read and dropped at most before the connection is cut. */
export const LINGER_BYTES = 64 * 1024 * 1024
/** How long the client may send nothing before the connection is cut. */
export const LINGER_IDLE_MS = 2_000
/** How long a lingering close lasts at most. */
export const LINGER_MS = 5_000

const kRequest = Symbol('logagg.request')
type Tracked = Socket & { [kRequest]?: IncomingMessage }

/** Notes the request a connection is serving; its body is what a lingering close reads. Call per request. */
export function trackRequest (req: IncomingMessage): void {
  (req.socket as Tracked)[kRequest] = req
}

/** How often a lingering connection is looked at. */
const LINGER_POLL_MS = 100

/**
 * Reads and drops the rest of `req`'s body after the answer, then closes; cuts past the bounds.
 * node:http's parser goes on reading and dropping the body of a request whose answer is sent
 * (it never reaches 'data' listeners), so progress is watched on socket.bytesRead.
 */
function linger (socket: Socket, req: IncomingMessage, maxBytes: number): void {
  socket.end()
  // A body a route had begun reading (piped into gunzip, then unpiped) would stall the socket unread.
  req.resume()
  const started = Date.now()
  const limit = socket.bytesRead + maxBytes
  let seen = socket.bytesRead
  let lastByte = started
  const poll = setInterval(() => {
    const now = Date.now()
    if (socket.bytesRead !== seen) {
      seen = socket.bytesRead
      lastByte = now
    }
    // Once the body is all read nothing is left unread: closing now sends no reset.
    if (req.complete || seen > limit || now - lastByte >= LINGER_IDLE_MS || now - started >= LINGER_MS) socket.destroy()
  }, LINGER_POLL_MS)
  socket.once('close', () => clearInterval(poll))
}

/** Makes every connection of `server` linger on close while its request's body is unread. */
export function lingerOnClose (server: Server, maxBody: number): void {
  const maxBytes = Math.max(LINGER_BYTES, 4 * maxBody)
  // One function for every socket; node:http calls destroySoon to close after a Connection: close answer.
  function destroySoon (this: Tracked): void {
    const req = this[kRequest]
    if (req === undefined || req.complete || this.destroyed) Socket.prototype.destroySoon.call(this)
    else linger(this, req, maxBytes)
  }
  server.on('connection', (socket: Tracked) => { socket.destroySoon = destroySoon })
}
