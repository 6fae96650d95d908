import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

// One request per connection at a time. Node parses every pipelined request
// that arrived in one chunk and runs each handler at once, so a client that
// sends hundreds of GETs and never reads made the server render and hold
// every answer. Here a connection's next request starts only once the answer
// before it has been flushed to the socket ('finish'), and an answer that
// makes no progress (the client does not read) for WRITE_TIMEOUT cuts the
// connection.
//
//   socket ──► request 1 ──► handler ──► answer flushed ──► request 2 ──► ...
//                request 2, 3, ... wait in the socket's queue

type Listener = (req: IncomingMessage, res: ServerResponse) => void

interface Connection {
  busy: boolean
  waiting: Array<[IncomingMessage, ServerResponse]>
}

export interface ConnectionQueue {
  /** The request listener to give node:http (and its checkContinue event). */
  listener: Listener
  /** Requests whose handler has started, for tests. */
  readonly started: number
}

export function connectionQueue (handle: Listener, writeTimeout: number): ConnectionQueue {
  const connections = new WeakMap<Socket, Connection>()
  let started = 0

  const run = (conn: Connection, req: IncomingMessage, res: ServerResponse): void => {
    conn.busy = true
    started++
    let timer: NodeJS.Timeout | undefined
    let done = false
    const next = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      const socket = req.socket
      const following = socket.destroyed ? undefined : conn.waiting.shift()
      if (socket.destroyed) conn.waiting.length = 0
      if (following === undefined) conn.busy = false
      else run(conn, following[0], following[1])
    }
    res.once('finish', next)
    res.once('close', next)
    // The clock starts with the first byte of the answer (only the client's
    // reading holds it from then on) and restarts whenever the socket drains.
    const arm = (): void => {
      if (done) return
      clearTimeout(timer)
      timer = setTimeout(() => req.socket.destroy(), writeTimeout)
      timer.unref()
    }
    const write = res.write.bind(res) as (...args: unknown[]) => boolean
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
    res.write = ((...args: unknown[]) => {
      if (timer === undefined) arm()
      return write(...args)
    }) as ServerResponse['write']
    res.end = ((...args: unknown[]) => {
      if (timer === undefined) arm()
      return end(...args)
    }) as ServerResponse['end']
    res.on('drain', arm)
    handle(req, res)
  }

  return {
    listener (req, res) {
      let conn = connections.get(req.socket)
      if (conn === undefined) {
        conn = { busy: false, waiting: [] }
        connections.set(req.socket, conn)
      }
      if (conn.busy) conn.waiting.push([req, res])
      else run(conn, req, res)
    },
    get started () { return started }
  }
}
