import { ES_BULK } from './es-bulk.js'
import { JSONLINE } from './jsonline.js'
import { LOGS } from './logs.js'
import { LOKI_PUSH } from './loki-push.js'
import { OTLP } from './otlp.js'
import type { AnyProtocol } from './protocol.js'

// Every ingest protocol served over HTTP. app.ts mounts each at its paths
// (guarded by INGEST_TOKEN), answers errors on those paths in the protocol's
// shape, and names them in its 404 text. A new protocol is one file in this
// folder and one line here.

export const INGEST_PROTOCOLS: readonly AnyProtocol[] = [
  LOGS,
  LOKI_PUSH,
  OTLP,
  ES_BULK,
  JSONLINE
]

/** A path pattern of Express's (`/:index/_bulk`) as a regular expression over request paths. */
const pattern = (path: string): RegExp => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}/?$`)

const AT = INGEST_PROTOCOLS.flatMap((p) => p.paths.map((path) => [pattern(path), p] as const))

/** The protocol served at a request path, for errors answered before its handler runs (token, method, shutdown). */
export function protocolAt (path: string): AnyProtocol | undefined {
  for (const [re, p] of AT) if (re.test(path)) return p
  return undefined
}
