import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { program } from '../programs.js'
import { spawnServer, type Spawned } from './helpers.js'
import { partitionsOf } from '../../src/cluster/rendezvous.js'

// Real nats-server processes for the cluster tests (Debian's nats-server,
// installed by scripts/setup.sh): JetStream on, each with its own store
// folder under one temp folder, on free loopback ports; several are joined
// by routes into one NATS cluster. Every process is killed by stopAll()
// (afterAll), whatever state a test left it in.

/** A free TCP port on loopback (taken and given back at once). */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export interface NatsNode {
  readonly name: string
  readonly port: number
  readonly url: string
  child: ChildProcess | null
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class NatsCluster {
  readonly nodes: NatsNode[] = []
  private readonly dir = mkdtempSync(join(tmpdir(), 'logagg-nats-'))
  private readonly monitor = new Map<string, number>()
  private readonly routes = new Map<string, number>()
  private readonly bin = program('nats-server', 'nats-server')
  /** Every logagg instance started by instance(), killed by stopAll() too. */
  readonly instances: Spawned[] = []

  /** NATS_URL listing every server. */
  get url (): string {
    return this.nodes.map((n) => n.url).join(',')
  }

  /** Starts `count` servers (one: a lone JetStream server; more: a cluster with routes between them) and waits until each is healthy. */
  static async start (count: number): Promise<NatsCluster> {
    const c = new NatsCluster()
    for (let i = 0; i < count; i++) {
      const name = `n${i}`
      const port = await freePort()
      c.monitor.set(name, await freePort())
      c.routes.set(name, await freePort())
      c.nodes.push({ name, port, url: `nats://127.0.0.1:${port}`, child: null })
    }
    try {
      for (const n of c.nodes) c.spawn(n)
      await Promise.all(c.nodes.map((n) => c.healthy(n)))
    } catch (err) {
      await c.stopAll()
      throw err
    }
    return c
  }

  private spawn (n: NatsNode): void {
    const args = ['-js', '-sd', join(this.dir, n.name), '-a', '127.0.0.1', '-p', String(n.port), '-m', String(this.monitor.get(n.name)), '-n', n.name]
    if (this.nodes.length > 1) {
      const routes = this.nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${this.routes.get(o.name)}`).join(',')
      args.push('--cluster_name', 'logagg-test', '--cluster', `nats://127.0.0.1:${this.routes.get(n.name)}`, '--routes', routes)
    }
    const child = spawn(this.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr!.resume()
    n.child = child
  }

  /** Resolves once the server's /healthz (JetStream included) answers 200; fails after `ms`. */
  async healthy (n: NatsNode, ms = 30_000): Promise<void> {
    const until = Date.now() + ms
    while (Date.now() < until) {
      if (n.child === null || n.child.exitCode !== null) throw new Error(`nats-server ${n.name} exited (${n.child?.exitCode})`)
      try {
        const res = await fetch(`http://127.0.0.1:${this.monitor.get(n.name)}/healthz`)
        if (res.status === 200) return
      } catch {}
      await sleep(100)
    }
    throw new Error(`nats-server ${n.name} was not healthy within ${ms} ms`)
  }

  /** Kills server i (SIGKILL by default) and waits until it is gone. */
  async kill (i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const n = this.nodes[i]!
    const child = n.child
    if (child === null || child.exitCode !== null || child.signalCode !== null) return
    const gone = once(child, 'exit')
    child.kill(signal)
    await gone
    n.child = null
  }

  /** Starts server i again, with the store folder it had. */
  async restart (i: number): Promise<void> {
    const n = this.nodes[i]!
    this.spawn(n)
    await this.healthy(n)
  }

  /** Starts a logagg instance on this NATS (SHARDS 2, a 2 s lease unless env says otherwise). */
  async instance (env: Record<string, string> = {}): Promise<Spawned> {
    const s = await spawnServer({ NATS_URL: this.url, CLUSTER_LEASE_TIMEOUT: '2s', LOG_LEVEL: 'info', ...env })
    this.instances.push(s)
    return s
  }

  /** kill -9 of a logagg instance; resolves once it is gone. */
  static async killInstance (s: Spawned): Promise<void> {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return
    const gone = once(s.child, 'exit')
    s.child.kill('SIGKILL')
    await gone
  }

  async stopAll (): Promise<void> {
    await Promise.all(this.instances.map((s) => NatsCluster.killInstance(s)))
    await Promise.all(this.nodes.map((_, i) => this.kill(i)))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** What a logagg instance's /healthz says in cluster mode. */
export interface ClusterHealth { status: string, cluster: { instance: string, nats: string, members: string[], owned: number[] } }

/**
 * True when the instances agree on who is alive (exactly they) and each owns
 * exactly the partitions rendezvous hashing gives it: every partition owned
 * once, and nothing moved that did not have to.
 */
export function ownedByRendezvous (healths: ClusterHealth[], partitions: number): boolean {
  const names = healths.map((h) => h.cluster?.instance).sort()
  return healths.every((h) => h.status === 'ok' &&
    JSON.stringify([...h.cluster.members].sort()) === JSON.stringify(names) &&
    JSON.stringify(h.cluster.owned) === JSON.stringify(partitionsOf(h.cluster.instance, names, partitions)))
}
