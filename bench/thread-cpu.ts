import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'

// CPU time per thread of a running server, read from outside the process
// (/proc/<pid>/task/<tid>/stat: utime + stime), so src/ needs no hook. Taken
// around the measured run of (b), it gives each thread's CPU µs per ingested
// entry, and from those a projection of the throughput with more cores.
//
// Threads are told apart by what can be known from outside: the main thread
// (tid == pid) is the front; the `shards` busiest of the others are the shard
// workers (Node names every worker thread alike); the rest (V8 GC helpers, the
// libuv pool, piscina's own threads) are "other". Linux only; elsewhere the
// probe reports null.

export interface ThreadTime {
  tid: number
  comm: string
  role: 'front' | 'shard' | 'other'
  cpuMs: number
}

export interface ThreadCpu {
  entries: number
  wallSeconds: number
  /** CPU µs per stored entry. */
  frontUs: number
  shardsUs: number
  otherUs: number
  threads: ThreadTime[]
}

export interface Projection {
  cores: number
  /** 1 / front cost: the front thread alone on a core. */
  frontBound: number
  /** (cores − 1) / (shards + other cost): the rest of the cores shared by the shards and helpers. */
  shardBound: number
  projected: number
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
    const others = times.filter((t) => t.tid !== this.pid).sort((a, b) => b.cpuMs - a.cpuMs)
    const threads: ThreadTime[] = [
      ...times.filter((t) => t.tid === this.pid).map((t) => ({ ...t, role: 'front' as const })),
      ...others.map((t, i) => ({ ...t, role: i < this.shards ? 'shard' as const : 'other' as const }))
    ]
    const us = (role: ThreadTime['role']): number => threads.filter((t) => t.role === role).reduce((s, t) => s + t.cpuMs, 0) * 1000 / entries
    return {
      entries,
      wallSeconds: (performance.now() - this.started) / 1000,
      frontUs: us('front'),
      shardsUs: us('shard'),
      otherUs: us('other'),
      threads: threads.filter((t) => t.cpuMs > 0)
    }
  }
}

export const PROJECTED_CORES = [4, 8, 16] as const

/**
 * Entries/s the measured costs would allow on more cores: the front thread on
 * a core of its own, the shards and helper threads sharing the others, no load
 * generator on the machine and perfect shard scaling. A projection, not a measurement.
 */
export function project (cpu: ThreadCpu, cores: number): Projection {
  const frontBound = cpu.frontUs > 0 ? 1e6 / cpu.frontUs : Infinity
  const rest = cpu.shardsUs + cpu.otherUs
  const shardBound = rest > 0 ? (cores - 1) * 1e6 / rest : Infinity
  return { cores, frontBound, shardBound, projected: Math.min(frontBound, shardBound) }
}
