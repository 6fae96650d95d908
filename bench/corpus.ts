import { SERVICES, SERVICE_COUNT, TimestampWriter, prng } from './data.js'

// The realistic corpus: what a log aggregator holds in practice, for the
// memory and query scenarios on it. Seeded and deterministic (mulberry32):
//
//   49%  nginx access lines, combined log format (IPs, paths, statuses, sizes, referrers, agents)
//   49%  JSON application lines (level, ts, msg, 32-hex trace_id, 16-hex span_id, user_id, duration_ms)
//    2%  multi-line stack traces, Java or Node style, 5-20 lines joined with \n
//
// About 196 message bytes per entry on average, over the same 50 services as
// the bench corpus. About a third of the entries carry 2-4 attributes
// (region, pod, level, ...; string values), sent as `"attributes": {...}`
// after the message; a server that does not know the field ignores it.

export interface CorpusEntry {
  service: string
  message: string
  attributes: Record<string, string> | null
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!
const int = (rand: () => number, below: number): number => Math.floor(rand() * below)
const hex = (rand: () => number, chars: number): string => {
  let s = ''
  while (s.length < chars) s += int(rand, 0x10000).toString(16).padStart(4, '0')
  return s.slice(0, chars)
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const VERBS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD']
const PATHS = [
  '/api/v1/orders/{id}', '/api/v1/users/{id}/profile', '/api/v2/cart/items?page={n}', '/static/js/app.{hex}.js',
  '/healthz', '/api/v1/search?q=shoes&sort=price&page={n}', '/api/v1/payments/{id}/capture', '/images/products/{id}.webp',
  '/login', '/api/v1/inventory/{id}?warehouse=eu-{n}', '/graphql', '/favicon.ico'
]
const STATUS = [200, 200, 200, 200, 200, 200, 201, 204, 301, 304, 304, 400, 401, 403, 404, 404, 429, 500, 502, 503]
const REFERRERS = ['-', '-', 'https://shop.example.com/', 'https://shop.example.com/cart', 'https://www.google.com/', 'https://shop.example.com/products/{id}']
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'curl/8.5.0', 'Go-http-client/1.1', 'kube-probe/1.29', 'python-requests/2.31.0',
  'okhttp/4.12.0'
]
const LEVELS = ['info', 'info', 'info', 'info', 'debug', 'debug', 'warn', 'error']
const MSGS = [
  'order created', 'payment authorized', 'cache miss for product', 'user session refreshed', 'retrying upstream call',
  'slow query detected on orders_by_customer', 'published event to kafka topic order-events', 'rate limit applied to client',
  'inventory reserved', 'feature flag evaluated', 'request completed', 'connection pool exhausted, waiting for a connection'
]
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1', 'sa-east-1']
const JAVA_FRAMES = ['com.example.orders.OrderService.validate(OrderService.java:{n})', 'com.example.orders.OrderController.create(OrderController.java:{n})',
  'org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:{n})', 'jakarta.servlet.http.HttpServlet.service(HttpServlet.java:{n})',
  'org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:{n})', 'java.base/java.lang.Thread.run(Thread.java:{n})']
const NODE_FRAMES = ['OrderController.create (/app/src/controllers/order.js:{n}:17)', 'Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:{n}:5)',
  'next (/app/node_modules/express/lib/router/route.js:{n}:13)', 'process.processTicksAndRejections (node:internal/process/task_queues:{n}:5)',
  'async Promise.all (index {n})', 'Repository.findOne (/app/src/db/repository.js:{n}:22)']

function fill (rand: () => number, template: string): string {
  return template.replace('{id}', String(int(rand, 1e7))).replace('{n}', String(1 + int(rand, 400))).replace('{hex}', hex(rand, 8))
}

function nginxLine (rand: () => number, ms: number): string {
  const d = new Date(ms)
  const p2 = (n: number): string => String(n).padStart(2, '0')
  const date = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]!}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`
  const ip = rand() < 0.3 ? `10.${int(rand, 256)}.${int(rand, 256)}.${int(rand, 256)}` : `${1 + int(rand, 223)}.${int(rand, 256)}.${int(rand, 256)}.${int(rand, 256)}`
  const status = pick(rand, STATUS)
  const size = status === 204 || status === 304 ? 0 : int(rand, 60_000)
  return `${ip} - - [${date}] "${pick(rand, VERBS)} ${fill(rand, pick(rand, PATHS))} HTTP/1.1" ${status} ${size} "${fill(rand, pick(rand, REFERRERS))}" "${pick(rand, AGENTS)}"`
}

function appLine (rand: () => number, ms: number, level: string): string {
  const msg = fill(rand, pick(rand, MSGS))
  return `{"level":"${level}","ts":"${new Date(ms).toISOString()}","msg":"${msg}","trace_id":"${hex(rand, 32)}","span_id":"${hex(rand, 16)}",` +
    `"user_id":${int(rand, 1e6)},"duration_ms":${(rand() * 800).toFixed(2)}}`
}

function stackTrace (rand: () => number): string {
  const java = rand() < 0.5
  const frames = 5 + int(rand, 16)
  const lines = [java
    ? `java.lang.IllegalStateException: order ${int(rand, 1e7)} is not in state PENDING`
    : `TypeError: Cannot read properties of undefined (reading '${pick(rand, ['id', 'items', 'total', 'user'])}')`]
  for (let i = 1; i < frames; i++) lines.push(`${java ? '\tat ' : '    at '}${fill(rand, pick(rand, java ? JAVA_FRAMES : NODE_FRAMES))}`)
  return lines.join('\n')
}

/** The next corpus entry drawn from `rand`, as if logged at `ms` (epoch ms, written inside the message). */
export function corpusEntry (rand: () => number, ms: number): CorpusEntry {
  const service = SERVICES[int(rand, SERVICE_COUNT)]!
  const level = pick(rand, LEVELS)
  const kind = rand()
  const message = kind < 0.02 ? stackTrace(rand) : kind < 0.51 ? nginxLine(rand, ms) : appLine(rand, ms, level)
  let attributes: Record<string, string> | null = null
  if (rand() < 1 / 3) {
    attributes = { region: pick(rand, REGIONS), pod: `${service}-${hex(rand, 4)}-${hex(rand, 5)}` }
    if (rand() < 0.6) attributes.level = kind < 0.02 ? 'error' : level
    if (rand() < 0.3) attributes.version = `v1.${int(rand, 30)}.${int(rand, 10)}`
  }
  return { service, message, attributes }
}

/** One NDJSON line (no newline) in the `{service, timestamp, message}` contract, attributes last when wanted. */
export function corpusLine (entry: CorpusEntry, timestamp: string, withAttributes: boolean): string {
  const attrs = withAttributes && entry.attributes !== null ? `,"attributes":${JSON.stringify(entry.attributes)}` : ''
  return `{"service":"${entry.service}","timestamp":"${timestamp}","message":${JSON.stringify(entry.message)}${attrs}}`
}

export interface CorpusBody {
  text: string
  count: number
  /** UTF-8 bytes of the messages alone (what the store must keep). */
  messageBytes: number
}

export interface CorpusBodyOptions {
  seed: number
  /** Epoch µs of the first entry and the spacing to the next. */
  startUs: number
  spacingUs: number
  attributes: boolean
}

/** An NDJSON body of `count` corpus entries in time order; the same options always give the same body. */
export function corpusBody (count: number, opts: CorpusBodyOptions, writer = new TimestampWriter()): CorpusBody {
  const rand = prng(opts.seed)
  const lines: string[] = []
  let messageBytes = 0
  for (let k = 0; k < count; k++) {
    const us = opts.startUs + Math.floor(k * opts.spacingUs)
    const entry = corpusEntry(rand, us / 1000)
    messageBytes += Buffer.byteLength(entry.message)
    lines.push(corpusLine(entry, writer.format(us), opts.attributes))
  }
  return { text: lines.join('\n') + '\n', count, messageBytes }
}

export interface CorpusStats {
  entries: number
  messageBytesPerEntry: number
  stackTraces: number
  withAttributes: number
}

/** Shape of the first `entries` of the corpus seeded by `seed` (for tests and the README). */
export function corpusStats (entries: number, seed = 1): CorpusStats {
  const rand = prng(seed)
  let bytes = 0
  let stacks = 0
  let attrs = 0
  for (let k = 0; k < entries; k++) {
    const e = corpusEntry(rand, 1.7e12 + k)
    bytes += Buffer.byteLength(e.message)
    if (e.message.includes('\n')) stacks++
    if (e.attributes !== null) attrs++
  }
  return { entries, messageBytesPerEntry: bytes / entries, stackTraces: stacks / entries, withAttributes: attrs / entries }
}
