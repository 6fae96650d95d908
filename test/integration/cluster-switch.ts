import { once } from 'node:events'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RunningServer } from '../../src/server.js'
import type { Settings } from '../../src/settings/settings.js'
import { NatsCluster } from './nats-fixture.js'

// The test fixture switch LOGAGG_TEST_CLUSTER=1 (the vitest project
// "cluster"): startTestServer() then starts a one-server NATS and two
// cluster instances in this process, behind a round-robin proxy, so every
// request of an HTTP test alternates between them (a write on one, the next
// query on the other). What the test sees is the proxy's URL; close() stops
// all three and NATS.

/** A proxy on loopback that sends each request to the next of `targets`, in turn. */
async function roundRobin (targets: string[]): Promise<Server> {
  let next = 0
  const server = createServer((req, res) => {
    const target = new URL(targets[next++ % targets.length]!)
    // The Host header is the proxy's, as a load balancer keeps it: answers that name the server name it.
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
      answer.pipe(res)
    })
    out.on('error', () => { res.destroy() })
    req.pipe(out)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

export async function startClusterTestServer (settings: Settings, start: (s: Settings) => Promise<RunningServer>): Promise<RunningServer> {
  const nats = await NatsCluster.start(1)
  const clustered: Settings = { ...settings, natsUrl: nats.url, clusterPartitions: 8, natsReplicas: 1, clusterLeaseTimeout: 2000 }
  const instances: RunningServer[] = []
  try {
    instances.push(await start(clustered), await start(clustered))
    // Until every partition has its owner, by rendezvous hashing over the two.
    const until = Date.now() + 20_000
    while (Date.now() < until) {
      const owned = (await Promise.all(instances.map(async (i) => ((await (await fetch(`${i.url}/healthz`)).json()) as { cluster: { owned: number[], members: string[] } }).cluster)))
      if (owned.every((o) => o.members.length === 2) && owned.flatMap((o) => o.owned).length === 8 && new Set(owned.flatMap((o) => o.owned)).size === 8) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } catch (err) {
    await Promise.all(instances.map((i) => i.close()))
    await nats.stopAll()
    throw err
  }
  const proxy = await roundRobin(instances.map((i) => i.url))
  const { port } = proxy.address() as AddressInfo
  const first = instances[0]!
  return Object.assign(Object.create(first) as RunningServer, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      proxy.closeAllConnections()
      proxy.close()
      await Promise.all(instances.map((i) => i.close()))
      await nats.stopAll()
    }
  })
}
