import type { Logger } from 'pino'
import { BodyTooLargeError } from '../core/errors.js'

// What a handler answers, independent of Express or node:http, so the fast
// path and the Express routes share every handler and every error message.

export interface Answer {
  status: number
  /** Text, bytes, or byte chunks written in order. */
  body: string | Buffer | Uint8Array[]
  headers?: Record<string, string>
  /** Called once the body is written or the client left: a body of views into lent memory gives it back. */
  done?: () => void
}

export interface HttpError extends Error {
  statusCode?: number
  status?: number
  code?: string
  /** body-parser's error kind, e.g. 'entity.too.large'. */
  type?: string
  retryAfter?: number
}

export const json = (status: number, body: Answer['body'], headers?: Record<string, string>): Answer =>
  headers === undefined ? { status, body } : { status, body, headers }

/** An error as every protocol answers it, before it is put in that protocol's shape. */
export interface ErrorParts {
  status: number
  code: string
  message: string
  headers: Record<string, string>
}

/**
 * Maps any thrown error to its status, code, message and headers; unexpected
 * ones become a logged 500 without details. Each protocol (our JSON, Loki's
 * plain text, OTLP's Status) only puts these in its own shape.
 */
export function describeError (err: HttpError, maxBody: number, log: Logger, context: { method?: string, url?: string }): ErrorParts {
  let status = err.statusCode ?? err.status ?? 500
  let code = err.code ?? 'LOGAGG_ERR_BAD_REQUEST'
  let message = err.message
  const headers: Record<string, string> = {}
  if (err.type === 'entity.too.large' || status === 413) {
    const tooLarge = new BodyTooLargeError(maxBody)
    status = 413
    code = tooLarge.code
    message = tooLarge.message
  } else if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
    // zlib's own codes (Z_DATA_ERROR, Z_BUF_ERROR) from any path that inflates.
    status = 400
    code = 'LOGAGG_ERR_BAD_ENCODING'
    message = 'the request body is not valid gzip/deflate data; compress it again, or send it uncompressed without Content-Encoding'
  } else if (err.type !== undefined && status < 500) {
    // body-parser's own errors: aborted uploads, bad Content-Encoding.
    code = status === 415 ? 'LOGAGG_ERR_UNSUPPORTED_MEDIA_TYPE' : 'LOGAGG_ERR_BAD_REQUEST'
  } else if (status >= 500 && !code.startsWith('LOGAGG_')) {
    log.error({ err, ...context }, 'unexpected error')
    status = 500
    code = 'LOGAGG_ERR_INTERNAL'
    message = 'internal error; the server log has the details'
  }
  // Every protocol's refusal names its code in a header too (ACCESS_LOG reads it there).
  headers['logagg-error-code'] = code
  // The client may still be sending a body we will not read: close after answering.
  if (status === 413) headers.connection = 'close'
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="logagg"'
  if (code === 'LOGAGG_ERR_SHUTTING_DOWN') headers.connection = 'close'
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter)
  return { status, code, message, headers }
}

/** Any thrown error as our JSON answer. */
export function errorAnswer (err: HttpError, maxBody: number, log: Logger, context: { method?: string, url?: string }): Answer {
  const { status, code, message, headers } = describeError(err, maxBody, log, context)
  return json(status, JSON.stringify({ error: message, code }), headers)
}
