import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { postJson, isoAt, spawnServer, type Spawned } from './helpers.js'

// SHARD_NICE: each shard lowers its own thread's priority, so under a CPU
// shortage the front thread runs first. Read from /proc: the server's threads
// and their nice values (Linux, as the README says).

/** Nice value of every thread of process `pid`. */
function niceOf (pid: number): number[] {
  const out: number[] = []
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8')
      // Fields after "(comm)": state is field 3, nice field 19.
      out.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
    } catch {}
  }
  return out
}

let server: Spawned | null = null
afterEach(() => {
  server?.child.kill('SIGKILL')
  server = null
})

describe('SHARD_NICE', () => {
  it('runs the shard threads at the nice value given and the front at its own', async () => {
    server = await spawnServer({ SHARDS: '3', SHARD_NICE: '7' })
    expect((await postJson(server.url, { service: 'nice', timestamp: isoAt(0), message: 'up' })).status).toBe(201)
    const nice = niceOf(server.child.pid!)
    expect(nice.filter((n) => n === 7)).toHaveLength(3)
    // The main thread is the first task, the process itself.
    const main = readFileSync(`/proc/${server.child.pid!}/stat`, 'utf8')
    expect(Number(main.slice(main.lastIndexOf(')') + 2).split(' ')[16])).toBe(0)
  })

  it('leaves every thread alone at 0', async () => {
    server = await spawnServer({ SHARDS: '2', SHARD_NICE: '0' })
    expect(niceOf(server.child.pid!).every((n) => n === 0)).toBe(true)
  })
})
