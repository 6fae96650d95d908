import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'

// CPU time per thread of a running server, read from outside the process
// (/proc/<pid>/task/<tid>/stat: utime + stime), so src/ needs no hook. Taken
// around the measured run of (b), it gives each thread's CPU µs per ingested
// entry, and from those a projection of the throughput with more cores.
//
// Threads are told apart by what can be known from outside: the main thread
// (tid == pid) is the first front, and threads named logagg-front-<n> are the
// other fronts (FRONTS; Node 22 and later name a thread after its Worker's
// name); the `shards` busiest of the rest are the shard workers (Node names
// every piscina worker alike); the rest (V8 GC helpers, the libuv pool,
// piscina's own threads) are "other". Linux only; elsewhere the probe reports
// null.

export interface ThreadTime {
  tid: number
  comm: string
  role: 'front' | 'shard' | 'other'
  cpuMs: number
}

export interface ThreadCpu {
  entries: number
  wallSeconds: number
  /** Front threads seen (FRONTS). */
  fronts: number
  /** CPU µs per stored entry, of all fronts together. */
  frontUs: number
  shardsUs: number
  otherUs: number
  threads: ThreadTime[]
}

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
  } catch {
    return 10
  }
})()

type Snapshot = Map<number, { comm: string, ticks: number }>

function snapshot (pid: number): Snapshot | null {
  const out: Snapshot = new Map()
  try {
    for (const name of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${name}/stat`, 'utf8')
        const close = stat.lastIndexOf(')')
        const comm = stat.slice(stat.indexOf('(') + 1, close)
        // Fields after "(comm) ": state is field 3, utime 14, stime 15.
        const rest = stat.slice(close + 2).split(' ')
        out.set(Number(name), { comm, ticks: Number(rest[11]) + Number(rest[12]) })
      } catch {} // the thread ended between readdir and read
    }
  } catch {
    return null
  }
  return out
}

/** Call start() just before the measured run and stop(entries) just after it. */
export class ThreadCpuProbe {
  private before: Snapshot | null = null
  private started = 0

  constructor (private readonly pid: number, private readonly shards: number) {}

  start (): void {
    this.before = snapshot(this.pid)
    this.started = performance.now()
  }

  stop (entries: number): ThreadCpu | null {
    const after = snapshot(this.pid)
    if (this.before === null || after === null || entries <= 0) return null
    const times = [...after].map(([tid, t]) => ({ tid, comm: t.comm, cpuMs: (t.ticks - (this.before!.get(tid)?.ticks ?? 0)) * TICK_MS }))
    const isFront = (t: { tid: number, comm: string }): boolean => t.tid === this.pid || t.comm.startsWith('logagg-front')
    const others = times.filter((t) => !isFront(t)).sort((a, b) => b.cpuMs - a.cpuMs)
    const threads: ThreadTime[] = [
      ...times.filter(isFront).map((t) => ({ ...t, role: 'front' as const })),
      ...others.map((t, i) => ({ ...t, role: i < this.shards ? 'shard' as const : 'other' as const }))
    ]
    const us = (role: ThreadTime['role']): number => threads.filter((t) => t.role === role).reduce((s, t) => s + t.cpuMs, 0) * 1000 / entries
    return {
      entries,
      fronts: times.filter(isFront).length,
      wallSeconds: (performance.now() - this.started) / 1000,
      frontUs: us('front'),
      shardsUs: us('shard'),
      otherUs: us('other'),
      threads: threads.filter((t) => t.cpuMs > 0)
    }
  }
}

export const PROJECTED_CORES = [4, 8, 16, 64] as const

export interface Projection {
  cores: number
  /** Front threads in the best split of the cores (FRONTS: Node 22.12 and later run more than one). */
  fronts: number
  /** fronts / front cost: each front thread alone on a core. */
  frontBound: number
  /** (cores − fronts) / (shards + other cost): the rest of the cores shared by the shards and helpers. */
  shardBound: number
  projected: number
}

/**
 * Entries/s the measured costs would allow on more cores: front threads on
 * cores of their own, as many as gives the most (the front cost per entry
 * split evenly over them), the shards and helper threads sharing the rest,
 * no load generator on the machine and perfect scaling. A projection, not a
 * measurement.
 */
export function project (cpu: ThreadCpu, cores: number): Projection {
  const rest = cpu.shardsUs + cpu.otherUs
  let best: Projection | null = null
  for (let fronts = 1; fronts < cores; fronts++) {
    const frontBound = cpu.frontUs > 0 ? fronts * 1e6 / cpu.frontUs : Infinity
    const shardBound = rest > 0 ? (cores - fronts) * 1e6 / rest : Infinity
    const projected = Math.min(frontBound, shardBound)
    if (best === null || projected > best.projected) best = { cores, fronts, frontBound, shardBound, projected }
  }
  return best ?? { cores, fronts: 1, frontBound: Infinity, shardBound: Infinity, projected: Infinity }
}
