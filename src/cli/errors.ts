import { oneLine } from './render.js'

// Errors the CLI reports: one line on stderr and an exit code. Usage mistakes
// (a bad option value) exit 2, as commander's own usage errors do here; a
// server that refuses or cannot be reached exits 1.

export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export class CliError extends Error {
  constructor (message: string, readonly exitCode = EXIT_FAILURE) {
    super(message)
    this.name = 'CliError'
  }
}

/**
 * The server's JSON error (`{"error", "code"}`) as one line, or the status and the start of the
 * body when it is not ours; what the server wrote is shown with its control characters escaped.
 */
export function serverError (status: number, body: string): CliError {
  try {
    const parsed = JSON.parse(body) as { error?: unknown, code?: unknown }
    if (typeof parsed.error === 'string') {
      return new CliError(`the server answered ${status}${typeof parsed.code === 'string' ? ` ${oneLine(parsed.code)}` : ''}: ${oneLine(parsed.error)}`)
    }
  } catch {}
  const text = oneLine(body.trim().slice(0, 200))
  return new CliError(`the server answered ${status}${text === '' ? '' : `: ${text}`}`)
}

/** Why a request never got an answer (fetch's "fetch failed" says nothing), naming the address tried. */
export function unreachable (base: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  const code = cause?.code ?? ''
  const reason = code === 'ECONNREFUSED'
    ? 'connection refused'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? 'host not found'
      : code === 'ECONNRESET' ? 'connection reset' : (cause?.message ?? (err as Error).message)
  return new CliError(`cannot reach logagg at ${base} (${reason}); is the server running there? Set --url or LOGAGG_URL`)
}
