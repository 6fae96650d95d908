import type { IncomingMessage, ServerResponse } from 'node:http'
import { nowUs } from '../../core/timestamp.js'
import type { Decoded, Outcome } from '../../ingest/decoded.js'
import { acceptanceWindow, type Window } from '../../ingest/entry.js'
import { storeDecoded } from '../../shards/ingest-pipeline.js'
import { withIngestRequest } from '../../shards/ingest-context.js'
import { BadRequestError } from '../../core/errors.js'
import type { Protocol } from '../../shards/meter.js'
import type { ShardRouter } from '../../shards/router.js'
import type { Settings } from '../../settings/settings.js'
import type { ErrorParts } from '../answer.js'
import { readBody } from '../body.js'
import type { QueryValues } from '../query-string.js'

// An ingest protocol over HTTP is one description: where it is served, what it
// needs from the request before the body is read, how it decodes a body, and
// how it answers (its outcome and its errors, in the protocol's own shape).
// Every one runs through ingest() below: body → decode → acceptance window →
// shards (shards/ingest-pipeline.ts) → answer. app.ts mounts the registry
// (registry.ts); its error handler and 404 text read it too.

/** A request as a protocol sees it: node's, with the query and path parameters already parsed (by Express or the fast path). */
export interface IngestRequest {
  req: IncomingMessage
  query: QueryValues | null
  params: Record<string, string>
}

/** What a decoder is given besides the body. */
export interface DecodeContext {
  /** Epoch µs when the body was read: the time of entries that carry none. */
  now: number
  window: Window
  settings: Settings
  shards: number
  params: Record<string, string>
}

/**
 * One ingest protocol. `F` is what accept() reads from the request (format,
 * encoding, field names), `D` what decode() makes of the body (with the
 * protocol's own way of listing refusals, `P`), `A` its answer.
 */
export interface IngestProtocol<F = unknown, P = unknown, D extends Decoded<P> = Decoded<P>, A = unknown> {
  /** How its entries are counted in /metrics (logagg_ingested_entries_total{protocol}). */
  readonly name: Protocol
  /** Express paths, each served with `methods`; the first names the protocol in the 404 text. */
  readonly paths: readonly string[]
  readonly methods: ReadonlyArray<'POST' | 'PUT'>
  /** Content-Encodings decode() reads itself (Loki's snappy); the shared reader inflates gzip and deflate. */
  readonly ownEncodings?: readonly string[]
  /** Before the body is read: what decode() needs from the request, or a 415 for a Content-Type it does not take. */
  accept (r: IngestRequest): F
  decode (body: Buffer, form: F, ctx: DecodeContext): D | Promise<D>
  /** The answer once the shards have stored their part (or a thrown error, answered by error()). */
  answer (outcome: Outcome<P>, form: F, decoded: D): A
  /** An error, already described (status, code, message, headers), in the protocol's shape. */
  error (e: ErrorParts, req: IncomingMessage): A
  send (res: ServerResponse, answer: A): void
}

/** A protocol with its types forgotten, as the registry lists it (its methods take what it made itself). */
export type AnyProtocol = IngestProtocol<unknown, unknown, Decoded<unknown>, unknown>

/** Longest Idempotency-Key taken. */
const MAX_KEY = 256

/**
 * The request's Idempotency-Key header (IETF httpapi draft), or null. In
 * cluster mode a request sent again with the same key within the stream's
 * duplicate window is stored once; the single-process server ignores it.
 */
function idempotencyKey (req: IncomingMessage): string | null {
  const key = req.headers['idempotency-key']
  if (key === undefined) return null
  const text = Array.isArray(key) ? key.join(',') : key
  if (text.length === 0 || text.length > MAX_KEY || !/^[\x21-\x7e]+$/.test(text)) throw new BadRequestError(`Idempotency-Key must be 1 to ${MAX_KEY} printable ASCII characters without spaces; got ${text.length} characters`)
  return text
}

/** Runs one request of `protocol` for `tenant` through the pipeline; errors are thrown, for the caller to answer with protocol.error(). */
export async function ingest<F, P, D extends Decoded<P>, A> (protocol: IngestProtocol<F, P, D, A>, r: IngestRequest, router: ShardRouter, settings: Settings, tenant: string): Promise<A> {
  const form = protocol.accept(r)
  const body = await readBody(r.req, settings.maxBody, protocol.ownEncodings)
  const now = nowUs()
  const decoded = await protocol.decode(body, form, { now, window: acceptanceWindow(settings, now), settings, shards: router.shards.length, params: r.params })
  const outcome = await withIngestRequest(settings.natsUrl === '' ? null : idempotencyKey(r.req), () => storeDecoded(router, protocol.name, decoded, tenant))
  return protocol.answer(outcome, form, decoded)
}
