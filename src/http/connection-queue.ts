import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

// One request per connection at a time. Node parses every pipelined request
// that arrived in one chunk and runs each handler at once, so a client that
// sends hundreds of GETs and never reads made the server render and hold
// every answer. Here a connection's next request starts only once the answer
// before it is done ('close' on the response), and a connection whose
// answer makes no progress (the client does not read) for WRITE_TIMEOUT is
// cut.
//
//   socket ──► request 1 ──► handler ──► answer done ──► request 2 ──► ...
//                request 2, 3, ... wait in the socket's queue
//
// The write timeout is a sweep, not a timer per request: every so often each
// busy connection is checked for bytes waiting to be sent that the socket has
// not managed to write since the last look. The hot path allocates one
// listener per request and nothing else.

type Listener = (req: IncomingMessage, res: ServerResponse) => void

interface Connection {
  socket: Socket
  busy: boolean
  waiting: Array<[IncomingMessage, ServerResponse]>
  /** socket.bytesWritten at the last sweep, and since when it has not moved with bytes waiting (0: it moved). */
  written: number
  stalledSince: number
}

export interface ConnectionQueue {
  /** The request listener to give node:http (and its checkContinue event). */
  listener: Listener
  /** Requests whose handler has started, for tests. */
  readonly started: number
  /** Stops the sweep. */
  close (): void
}

export function connectionQueue (handle: Listener, writeTimeout: number): ConnectionQueue {
  const connections = new WeakMap<Socket, Connection>()
  const busy = new Set<Connection>()
  let started = 0

  const run = (conn: Connection, req: IncomingMessage, res: ServerResponse): void => {
    conn.busy = true
    busy.add(conn)
    started++
    res.once('close', () => {
      const following = conn.socket.destroyed ? undefined : conn.waiting.shift()
      if (conn.socket.destroyed) conn.waiting.length = 0
      if (following === undefined) {
        conn.busy = false
        busy.delete(conn)
      } else {
        run(conn, following[0], following[1])
      }
    })
    handle(req, res)
  }

  const sweep = setInterval(() => {
    const now = Date.now()
    for (const conn of busy) {
      const { socket } = conn
      if (socket.destroyed) {
        busy.delete(conn)
        continue
      }
      if (socket.writableLength === 0 || socket.bytesWritten !== conn.written) {
        conn.written = socket.bytesWritten
        conn.stalledSince = 0
      } else if (conn.stalledSince === 0) {
        conn.stalledSince = now
      } else if (now - conn.stalledSince >= writeTimeout) {
        socket.destroy()
        busy.delete(conn)
      }
    }
  }, Math.max(50, Math.min(1000, writeTimeout / 4)))
  sweep.unref()

  return {
    listener (req, res) {
      let conn = connections.get(req.socket)
      if (conn === undefined) {
        conn = { socket: req.socket, busy: false, waiting: [], written: 0, stalledSince: 0 }
        connections.set(req.socket, conn)
      }
      if (conn.busy) conn.waiting.push([req, res])
      else run(conn, req, res)
    },
    get started () { return started },
    close () { clearInterval(sweep) }
  }
}
