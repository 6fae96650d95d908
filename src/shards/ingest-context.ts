import { AsyncLocalStorage } from 'node:async_hooks'

// What a transport may want to know about the request whose entries it is
// handed, without every ingest call carrying it: the cluster transport names
// its JetStream messages after the request (Nats-Msg-Id), so that the same
// request sent again is stored once. The HTTP ingest pipeline runs each
// request's store step inside run(); syslog and other callers run outside
// it, and a transport then treats each call as a request of its own.

export interface IngestRequestContext {
  /** The client's Idempotency-Key header, or null when it sent none. */
  readonly key: string | null
  /** Calls made to each shard during this request, so the nth call to a shard is named alike on a retry. */
  readonly calls: Map<number, number>
}

const storage = new AsyncLocalStorage<IngestRequestContext>()

/** Runs `store` (one request's store step) with its context. */
export function withIngestRequest<T> (key: string | null, store: () => Promise<T>): Promise<T> {
  return storage.run({ key, calls: new Map() }, store)
}

/** The context of the request being stored, or undefined outside one. */
export function ingestRequest (): IngestRequestContext | undefined {
  return storage.getStore()
}
