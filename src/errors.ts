import createError from '@fastify/error'

// Every error a client can see: a stable code, an HTTP status, and a message
// that says what to do. Errors never cross a thread as classes; a shard's
// failure arrives as an ordinary Error and is mapped to ShardUnavailableError.

export const BadRequestError = createError('LOGAGG_ERR_BAD_REQUEST', '%s', 400)
export const InvalidEntryError = createError('LOGAGG_ERR_INVALID_ENTRY', '%s', 400)
export const BadQueryError = createError('LOGAGG_ERR_BAD_QUERY', '%s', 400)
export const NotFoundError = createError('LOGAGG_ERR_NOT_FOUND', '%s', 404)
export const MethodNotAllowedError = createError('LOGAGG_ERR_METHOD_NOT_ALLOWED', '%s', 405)
export const BodyTooLargeError = createError(
  'LOGAGG_ERR_BODY_TOO_LARGE',
  'request body is larger than the %s byte limit; split it into smaller batches (the server limit is MAX_BODY)',
  413
)
export const UnsupportedMediaTypeError = createError('LOGAGG_ERR_UNSUPPORTED_MEDIA_TYPE', '%s', 415)
export const NotReadyError = createError('LOGAGG_ERR_NOT_READY', 'the server is starting; retry in a moment', 503)
export const ShardUnavailableError = createError('LOGAGG_ERR_SHARD_UNAVAILABLE', '%s', 503)

/** The fields every error response body carries. */
export interface ErrorBody {
  error: string
  code: string
  [extra: string]: unknown
}
