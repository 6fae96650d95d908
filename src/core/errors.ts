import createError from '@fastify/error'

// Every error a client can see: a stable code, an HTTP status, and a message
// that says what to do. Errors never cross a thread as classes: a shard that
// refuses a request answers {code, message}, rebuilt here from SHARD_ERRORS,
// and a shard that fails or dies becomes a ShardUnavailableError.

export const BadRequestError = createError('LOGAGG_ERR_BAD_REQUEST', '%s', 400)
export const BadEncodingError = createError('LOGAGG_ERR_BAD_ENCODING', '%s', 400)
export const InvalidEntryError = createError('LOGAGG_ERR_INVALID_ENTRY', '%s', 400)
export const BadQueryError = createError('LOGAGG_ERR_BAD_QUERY', '%s', 400)
export const UnauthorizedError = createError('LOGAGG_ERR_UNAUTHORIZED', '%s', 401)
/** MULTI_TENANT: a request without X-Scope-OrgID (Loki answers 401 "no org id" too). */
export const NoOrgIdError = createError('LOGAGG_ERR_NO_ORG_ID', 'no org id', 401)
/** MULTI_TENANT: an X-Scope-OrgID that is not a valid tenant id, or several where one is needed. */
export const BadTenantError = createError('LOGAGG_ERR_BAD_TENANT', '%s', 400)
/** TOKENS_FILE: a valid token that does not grant this tenant or this scope. */
export const ForbiddenTenantError = createError('LOGAGG_ERR_FORBIDDEN_TENANT', '%s', 403)
export const ForbiddenOriginError = createError('LOGAGG_ERR_FORBIDDEN_ORIGIN', '%s', 403)
export const ForbiddenHostError = createError('LOGAGG_ERR_FORBIDDEN_HOST', '%s', 403)
export const NotFoundError = createError('LOGAGG_ERR_NOT_FOUND', '%s', 404)
export const MethodNotAllowedError = createError('LOGAGG_ERR_METHOD_NOT_ALLOWED', '%s', 405)
export const BodyTooLargeError = createError(
  'LOGAGG_ERR_BODY_TOO_LARGE',
  'request body is larger than the %s byte limit; split it into smaller batches (the server limit is MAX_BODY)',
  413
)
export const QueryTooLongError = createError('LOGAGG_ERR_QUERY_TOO_LONG', '%s; send fewer or shorter parameters', 414)
export const UnsupportedMediaTypeError = createError('LOGAGG_ERR_UNSUPPORTED_MEDIA_TYPE', '%s', 415)
/** Loki push and OTLP: a body that cannot be decoded (bad protobuf, snappy, gzip or JSON shape). */
export const MalformedBodyError = createError('LOGAGG_ERR_MALFORMED_BODY', '%s', 400)
/** Loki push: a request without any stream (Loki answers 422 too). */
export const NoStreamsError = createError('LOGAGG_ERR_NO_STREAMS', '%s', 422)
export const QueueFullError = createError('LOGAGG_ERR_QUEUE_FULL', '%s', 429)
/** LIMITS_FILE: a tenant over its ingestion_rate_mb / ingestion_burst_size_mb. */
export const RateLimitedError = createError('LOGAGG_ERR_RATE_LIMITED', '%s', 429)
/** LIMITS_FILE: a query past its tenant's max_query_length, max_entries_limit_per_query or max_query_series. */
export const QueryLimitError = createError('LOGAGG_ERR_QUERY_LIMIT', '%s', 400)
/** More live tails than MAX_TAILS would be open. */
export const TooManyTailsError = createError('LOGAGG_ERR_TOO_MANY_TAILS', '%s', 429)
export const StoreFullError = createError('LOGAGG_ERR_STORE_FULL', '%s', 507)
/** DATA_DIR: the disk is full (a write failed with ENOSPC) or MAX_DISK is reached; nothing of the request was stored. */
export const DiskFullError = createError('LOGAGG_ERR_DISK_FULL', '%s', 507)
/** DATA_DIR: a write or sync failed for another reason (an I/O error); nothing of the request was stored. */
export const DiskFailedError = createError('LOGAGG_ERR_DISK_FAILED', '%s', 503)
export const ShardUnavailableError = createError('LOGAGG_ERR_SHARD_UNAVAILABLE', '%s', 503)
export const QueryTimeoutError = createError('LOGAGG_ERR_QUERY_TIMEOUT', '%s', 503)
export const QueryTooExpensiveError = createError('LOGAGG_ERR_QUERY_TOO_EXPENSIVE', '%s', 503)
export const TooManyQueriesError = createError('LOGAGG_ERR_TOO_MANY_QUERIES', '%s', 503)
export const QueryCancelledError = createError('LOGAGG_ERR_QUERY_CANCELLED', '%s', 503)
/** Cluster mode: NATS is unreachable or has no quorum, or a partition has no owner yet; nothing of the request was acknowledged. */
export const ClusterUnavailableError = createError('LOGAGG_ERR_CLUSTER_UNAVAILABLE', '%s', 503)
/** Cluster mode: what a single-process server does that a cluster does not do yet (live tails). */
export const NotInClusterError = createError('LOGAGG_ERR_NOT_IN_CLUSTER', '%s', 501)
export const ShuttingDownError = createError('LOGAGG_ERR_SHUTTING_DOWN', 'the server is shutting down; send this request again to another instance or once it is back', 503)

/** Marks an error so that its answer carries a Retry-After header of `seconds`. */
export function retryAfter<E extends Error> (err: E, seconds: number): E & { retryAfter: number } {
  return Object.assign(err, { retryAfter: seconds })
}

/** The errors a shard may answer with, by code, rebuilt on the front thread. */
export const SHARD_ERRORS: Record<string, new (message: string) => Error> = {
  LOGAGG_ERR_QUERY_TIMEOUT: QueryTimeoutError,
  LOGAGG_ERR_QUERY_TOO_EXPENSIVE: QueryTooExpensiveError,
  LOGAGG_ERR_QUERY_CANCELLED: QueryCancelledError,
  LOGAGG_ERR_BAD_QUERY: BadQueryError,
  LOGAGG_ERR_DISK_FULL: DiskFullError,
  LOGAGG_ERR_DISK_FAILED: DiskFailedError,
  LOGAGG_ERR_CLUSTER_UNAVAILABLE: ClusterUnavailableError,
  LOGAGG_ERR_TOO_MANY_QUERIES: TooManyQueriesError,
  LOGAGG_ERR_SHARD_UNAVAILABLE: ShardUnavailableError
}
