import { MessageChannel } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { ShardUnavailableError } from '../../src/core/errors.js'
import { NO_USAGE, type ShardReply, type ShardRequest } from '../../src/store/shard-messages.js'
import { PortLink, servePort } from '../../src/transport/worker/port-link.js'

// The envelope between a front thread and a shard worker over a MessagePort,
// both ends in this thread: requests are answered on their port, a failure
// or a closed port is a 503, a new port brings the link back.

const open: MessageChannel[] = []
afterEach(() => {
  for (const c of open.splice(0)) {
    c.port1.close()
    c.port2.close()
  }
})

function channel (handle: (req: ShardRequest) => ShardReply | Promise<ShardReply>): MessageChannel {
  const c = new MessageChannel()
  open.push(c)
  servePort(c.port1, handle)
  return c
}

const stats = (entries: number): ShardReply => ({ type: 'stats', usage: { ...NO_USAGE, entries }, counters: { purgeRuns: 0, purgedEntries: 0, purgeSeconds: 0, idleSeals: 0 } } as unknown as ShardReply)

describe('PortLink', () => {
  it('answers requests in order and shows each reply to its shard', async () => {
    const seen: number[] = []
    const link = new PortLink(3, (r) => seen.push(r.usage.entries), () => {})
    let n = 0
    const c = channel(() => stats(++n))
    link.use(c.port2, 0)
    await link.whenReady()
    expect(link.state).toBe('ready')
    const replies = await Promise.all([1, 2, 3].map(() => link.run({ type: 'stats' })))
    expect(replies.map((r) => r.usage.entries)).toEqual([1, 2, 3])
    expect(seen).toEqual([1, 2, 3])
  })

  it('answers asynchronous handlers too, and a handler that throws is a 503 naming the shard', async () => {
    const link = new PortLink(1, () => {}, () => {})
    const c = channel((req) => {
      if (req.type === 'services') throw new Error('boom')
      return Promise.resolve(stats(7))
    })
    link.use(c.port2, 0)
    expect((await link.run({ type: 'stats' })).usage.entries).toBe(7)
    const failed = await link.run({ type: 'services', after: null, limit: 1 }).catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(ShardUnavailableError)
    expect((failed as Error).message).toMatch(/^shard 1 failed while handling the request \(boom\)/)
    expect((failed as { retryAfter: number }).retryAfter).toBe(1)
  })

  it('is a 503 before its first port, when told the worker is down, and again ready with a new port', async () => {
    let restarted = 0
    const link = new PortLink(0, () => {}, () => { restarted++ })
    await expect(link.run({ type: 'stats' })).rejects.toThrow(/shard 0 is starting/)
    // A request in flight when the worker dies fails at once.
    const stuck = channel(() => new Promise<ShardReply>(() => {}))
    link.use(stuck.port2, 0)
    const inFlight = link.run({ type: 'stats' }).catch((e: unknown) => e)
    link.down()
    expect(await inFlight).toBeInstanceOf(ShardUnavailableError)
    expect(link.state).toBe('down')
    await expect(link.run({ type: 'stats' })).rejects.toThrow(/restarting after a crash/)
    const again = link.whenReady()
    link.use(channel(() => stats(9)).port2, 1)
    await again
    expect(restarted).toBe(1)
    expect((await link.run({ type: 'stats' })).usage.entries).toBe(9)
  })

  it('goes down when the worker\'s end of the channel closes', async () => {
    const link = new PortLink(2, () => {}, () => {})
    const c = channel(() => stats(1))
    link.use(c.port2, 0)
    c.port1.close()
    const deadline = Date.now() + 2000
    while (link.state === 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(link.state).toBe('down')
  })
})
