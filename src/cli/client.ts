import { CliError, serverError, unreachable } from './errors.js'

// The few HTTP calls the CLI makes, with the token, and the two ways one can
// fail turned into messages: the server's own JSON error, or no server at all.

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export class Client {
  constructor (readonly base: string, private readonly token: string | undefined) {}

  /** Sends a request and returns the answer whatever its status; throws only when there is no answer. */
  async fetch (path: string, params: URLSearchParams, options: RequestOptions = {}): Promise<Response> {
    const query = params.toString()
    const headers: Record<string, string> = { ...options.headers }
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    const init: RequestInit = { method: options.method ?? 'GET', headers }
    if (options.body !== undefined) init.body = options.body
    if (options.signal !== undefined) init.signal = options.signal
    try {
      return await fetch(`${this.base}${path}${query === '' ? '' : `?${query}`}`, init)
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw unreachable(this.base, err)
    }
  }

  /** Like fetch, but a status other than 2xx is thrown as the server's error message. */
  async ok (path: string, params: URLSearchParams, options: RequestOptions = {}): Promise<Response> {
    const res = await this.fetch(path, params, options)
    if (res.ok) return res
    throw serverError(res.status, await res.text())
  }
}

/**
 * The longest answer line read: an entry's line is at most a few MiB (a message of 256 KiB with
 * every character escaped, plus its attributes); past this the other end is not a logagg server.
 */
export const MAX_LINE_CHARS = 16 * 1024 * 1024

/** The lines of a streamed body as they arrive (without their newline); a last unterminated line too. */
export async function * bodyLines (res: Response, maxLine = MAX_LINE_CHARS): AsyncGenerator<string> {
  if (res.body === null) return
  const decoder = new TextDecoder()
  let pending = ''
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    // What was kept from earlier chunks has no newline: look for one in the new text only.
    const seen = pending.length
    pending += decoder.decode(chunk, { stream: true })
    let from = 0
    for (let nl = pending.indexOf('\n', seen); nl !== -1; nl = pending.indexOf('\n', from)) {
      yield pending.slice(from, nl)
      from = nl + 1
    }
    pending = pending.slice(from)
    if (pending.length > maxLine) {
      throw new CliError(`the server sent a line longer than ${maxLine} characters without a newline (is --url a logagg server?)`)
    }
  }
  pending += decoder.decode()
  if (pending !== '') yield pending
}
