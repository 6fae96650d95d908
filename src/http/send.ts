import type { ServerResponse } from 'node:http'
import type { Answer } from './answer.js'

/**
 * Writes an answer whose JSON body is already text or bytes, with `extra`
 * headers (the security headers) first; no ETag or other per-response work.
 * Byte chunks are written with backpressure: the next waits for 'drain'.
 */
export function send (res: ServerResponse, answer: Answer, extra: ReadonlyArray<readonly [string, string]> = []): void {
  if (answer.done !== undefined) whenWritten(res, answer.done)
  for (const [k, v] of extra) res.setHeader(k, v)
  res.setHeader('content-type', 'application/json; charset=utf-8')
  if (answer.headers !== undefined) for (const k in answer.headers) res.setHeader(k, answer.headers[k]!)
  res.statusCode = answer.status
  const { body } = answer
  if (!Array.isArray(body)) {
    res.end(body)
    return
  }
  let length = 0
  for (const chunk of body) length += chunk.length
  res.setHeader('content-length', length)
  writeChunks(res, body, 0)
}

/** Calls `done` once `res` is written out or its connection closed ('close' comes after either; at once if it closed already). */
function whenWritten (res: ServerResponse, done: () => void): void {
  if (res.destroyed) done()
  else res.once('close', done)
}

/** Writes chunks from `from` on, waiting for 'drain' whenever the socket says it has enough. */
function writeChunks (res: ServerResponse, chunks: Uint8Array[], from: number): void {
  res.cork()
  for (let i = from; i < chunks.length;) {
    if (!res.write(chunks[i++]!) && i < chunks.length) {
      res.uncork()
      res.once('drain', () => writeChunks(res, chunks, i))
      return
    }
  }
  res.end()
  res.uncork()
}

/** A signal that aborts if the connection closes before the answer is sent (the client left). */
export function clientGone (res: ServerResponse): AbortSignal {
  const controller = new AbortController()
  res.once('close', () => { if (!res.writableFinished) controller.abort() })
  return controller.signal
}
