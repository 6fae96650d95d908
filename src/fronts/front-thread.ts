// A front thread beyond the first (FRONTS): its own HTTP server on the shared
// port (reusePort), its own router over ports to the same shard workers
// (src/transport/worker/port-link.ts), sequence numbers from the shared
// counter. It holds no entries: when it dies, only its connections are cut.
import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import { serveHttp } from '../http/front.js'
import { ServerMetrics } from '../metrics/server-metrics.js'
import { ShardRouter } from '../shards/router.js'
import { SharedSeqs } from '../shards/seqs.js'
import { LinkedShard } from '../transport/worker/linked-shard.js'
import { PageMemory } from '../transport/worker/page-memory.js'
import { PortLink } from '../transport/worker/port-link.js'
import { openLimits } from '../tenants/limits-source.js'
import { DeleteProxy } from './delete-proxy.js'
import type { FromFront, FrontInit, ToFront } from './front-pool.js'

const init = workerData as FrontInit
const first = parentPort!
const { settings, front } = init
const out = pino.destination({ fd: 1, sync: false, minLength: 1 })
const log = pino({ level: settings.logLevel, base: { pid: process.pid, front } }, out)
const send = (m: FromFront): void => first.postMessage(m)

const links: PortLink[] = []
const shards = init.pages.map((pages, i) => new LinkedShard<PortLink>(i, (shard) => {
  const link = new PortLink(i, (reply) => shard.sawReply(reply), () => shard.forgetUsage())
  links[i] = link
  return link
}, new PageMemory(pages)))
const metrics = new ServerMetrics(settings.metricsMaxTenants)
// The first front checked LIMITS_FILE at start; this one reads it too, and watches it for itself.
const limits = openLimits(settings.limitsFile, settings.retention, log)
const router = new ShardRouter(shards, { ...settings, maxDisk: Infinity }, metrics, { seqs: new SharedSeqs(init.seqs), front, limits: limits.of, rateShare: 1 / settings.fronts })

// A scrape here is the first front's: it asks every front for its own counters.
const renders = new Map<number, (text: string) => void>()
let nextRender = 1
metrics.scrapeElsewhere = () => new Promise((resolve) => {
  const id = nextRender++
  renders.set(id, resolve)
  send({ type: 'render', id })
})

const deletes = new DeleteProxy((id, call) => send({ type: 'delete', id, call }))
const http = await serveHttp(router, settings, log, metrics, { front, reusePort: true, deletes })
router.start().catch(() => {})

first.on('message', (m: ToFront) => {
  switch (m.type) {
    case 'shard':
      links[m.shard]?.use(m.port, m.restarts)
      break
    case 'shard-down':
      links[m.shard]?.down()
      break
    case 'metrics':
      metrics.frontJson(router).then((json) => send({ type: 'metrics', id: m.id, json }), () => send({ type: 'metrics', id: m.id, json: [] }))
      break
    case 'rendered':
      renders.get(m.id)?.(m.text)
      renders.delete(m.id)
      break
    case 'deleted':
      deletes.answered(m.id, m.result)
      break
    case 'reload':
      limits.reload()
      http.reload()
      break
    case 'close':
      http.close().then(() => router.close()).finally(() => {
        send({ type: 'closed' })
        out.flush(() => process.exit(0))
      })
      break
  }
})
send({ type: 'listening' })
