import { SHARD_ERRORS } from '../core/errors.js'
import type { ShardReply, ShardRequest } from '../store/shard-messages.js'

// The one place a shard's reply is checked against its request, for every
// transport: a refusal ({type: 'error', code, message}) is rebuilt into its
// coded error class; a reply of the wrong type is a bug and throws.

/** The reply type each request type is answered with (an error reply aside). */
export const REPLY_TYPE = {
  hello: 'ready',
  ingest: 'stored',
  'ingest-lines': 'stored-lines',
  'ingest-streams': 'stored-streams',
  query: 'result',
  cancel: 'cancelled',
  services: 'services',
  'tail-subscribe': 'tail',
  'tail-unsubscribe': 'tail',
  'tail-poll': 'tail',
  streams: 'streams',
  stats: 'stats',
  retention: 'set',
  deletions: 'set'
} as const satisfies Record<ShardRequest['type'], ShardReply['type']>

/** The reply a request of type R['type'] gets when it succeeds. */
export type ReplyFor<R extends ShardRequest> = Extract<ShardReply, { type: (typeof REPLY_TYPE)[R['type']] }>

/**
 * `reply` as the answer to `req`: throws the coded error a refusal carries,
 * and a plain Error (a bug: the two sides disagree on the protocol) for an
 * unknown code or a reply of another type.
 */
export function expectReply<R extends ShardRequest> (shard: number, req: R, reply: ShardReply): ReplyFor<R> {
  if (reply.type === 'error') {
    const ErrorClass = SHARD_ERRORS[reply.code]
    if (ErrorClass === undefined) throw new Error(`shard ${shard}: ${reply.code}: ${reply.message}`)
    throw new ErrorClass(reply.message)
  }
  if (reply.type !== REPLY_TYPE[req.type]) throw new Error(`shard ${shard} answered ${req.type} with ${reply.type}`)
  return reply as ReplyFor<R>
}
