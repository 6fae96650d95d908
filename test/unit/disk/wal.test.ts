import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseDuration } from '../../../src/settings.js'
import { frameOf, scanRecords } from '../../../src/store/disk/record-frame.js'
import { REAL_IO, Wal, WalError, parseFsync, segmentName, type WalIo } from '../../../src/store/disk/wal.js'

let dir = ''
let wal: Wal | null = null
afterEach(() => {
  wal?.close()
  wal = null
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

/** Real file calls, with fdatasync held until the test releases it, and failures on demand. */
function controlledIo (): WalIo & { syncs: number, release: (err?: NodeJS.ErrnoException) => void, failWrites: string | null } {
  let held: Array<(err: NodeJS.ErrnoException | null) => void> = []
  const io = {
    syncs: 0,
    failWrites: null as string | null,
    writeSync: (fd: number, buf: Buffer, offset: number, length: number, position: number): number => {
      if (io.failWrites !== null) {
        // Half the record reaches the file before the error, as a disk filling up does.
        REAL_IO.writeSync(fd, buf, offset, Math.floor(length / 2), position)
        throw Object.assign(new Error('no space'), { code: io.failWrites })
      }
      return REAL_IO.writeSync(fd, buf, offset, length, position)
    },
    fdatasync: (_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      io.syncs++
      held.push(cb)
    },
    release: (err?: NodeJS.ErrnoException) => {
      const cbs = held
      held = []
      for (const cb of cbs) cb(err ?? null)
    }
  }
  return io
}

const open = (io: WalIo, mode: ConstructorParameters<typeof Wal>[2] = { kind: 'batch' }): Wal => {
  dir = mkdtempSync(join(tmpdir(), 'logagg-wal-'))
  wal = new Wal(dir, 1, mode, io)
  return wal
}
const records = (id = 1): string[] => scanRecords(readFileSync(join(dir, segmentName(id)))).records.map((r) => r.toString())

describe('Wal, FSYNC=batch', () => {
  it('stores a batch only after the sync that covers it, and covers every batch written during a sync with the next one', async () => {
    const io = controlledIo()
    const w = open(io)
    const applied: string[] = []
    const first = w.commit(frameOf(Buffer.from('a')), () => applied.push('a'))!
    // Written (the kernel has it) but not stored until the sync completes.
    expect(records()).toEqual(['a'])
    expect(applied).toEqual([])
    const later = ['b', 'c', 'd'].map((m) => w.commit(frameOf(Buffer.from(m)), () => applied.push(m))!)
    expect(io.syncs).toBe(1)
    io.release()
    await first
    expect(applied).toEqual(['a'])
    // One more sync covers the three written meanwhile (group commit).
    expect(io.syncs).toBe(2)
    io.release()
    await Promise.all(later)
    expect(applied).toEqual(['a', 'b', 'c', 'd'])
  })

  it('fails the batches of a failed sync without storing them, and goes on in a new segment', async () => {
    const io = controlledIo()
    const w = open(io)
    const applied: string[] = []
    const p = w.commit(frameOf(Buffer.from('a')), () => applied.push('a'))!
    io.release(Object.assign(new Error('io'), { code: 'EIO' }))
    await expect(p).rejects.toThrow(/syncing the write-ahead log failed \(EIO\)/)
    expect(applied).toEqual([])
    const q = w.commit(frameOf(Buffer.from('b')), () => applied.push('b'))!
    io.release()
    await q
    expect(applied).toEqual(['b'])
    expect(readdirSync(dir).sort()).toEqual([segmentName(1), segmentName(2)])
  })

  it('refuses a batch whose write fails (disk full) and cuts its torn bytes off, so later records stay readable', async () => {
    const io = controlledIo()
    const w = open(io)
    const ok = w.commit(frameOf(Buffer.from('kept')), () => {})!
    io.failWrites = 'ENOSPC'
    let err: unknown
    try {
      w.commit(frameOf(Buffer.from('refused record')), () => { throw new Error('must not be stored') })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(WalError)
    expect((err as WalError).full).toBe(true)
    expect((err as Error).message).toMatch(/disk is full/)
    io.failWrites = null
    const next = w.commit(frameOf(Buffer.from('after')), () => {})!
    io.release()
    await ok
    io.release()
    await next
    expect(records()).toEqual(['kept', 'after'])
  })

  it('runs a barrier after every batch written before it is stored and before any written after', async () => {
    const io = controlledIo()
    const w = open(io)
    const order: string[] = []
    const a = w.commit(frameOf(Buffer.from('a')), () => order.push('a'))!
    w.barrier(() => order.push('barrier'))
    const b = w.commit(frameOf(Buffer.from('b')), () => order.push('b'))!
    io.release()
    await a
    io.release()
    await b
    expect(order).toEqual(['a', 'barrier', 'b'])
    w.barrier(() => order.push('now'))
    expect(order.at(-1)).toBe('now')
  })
})

describe('Wal, other FSYNC modes', () => {
  it('stores at once with interval and off; interval syncs on its timer', async () => {
    const io = controlledIo()
    const w = open(io, { kind: 'interval', ms: 20 })
    const applied: string[] = []
    expect(w.commit(frameOf(Buffer.from('a')), () => applied.push('a'))).toBeNull()
    expect(applied).toEqual(['a'])
    await new Promise<void>((resolve) => {
      const check = setInterval(() => { if (io.syncs > 0) { clearInterval(check); resolve() } }, 5)
    })
    io.release()
    w.close()
    const off = controlledIo()
    const w2 = new Wal(dir, 10, { kind: 'off' }, off)
    expect(w2.commit(frameOf(Buffer.from('b')), () => applied.push('b'))).toBeNull()
    expect(applied).toEqual(['a', 'b'])
    w2.close()
    expect(off.syncs).toBe(0)
  })

  it('rotates and deletes segments a checkpoint covers', () => {
    const w = open(REAL_IO, { kind: 'off' })
    w.commit(frameOf(Buffer.from('a')), () => {})
    expect(w.rotate()).toBe(1)
    w.commit(frameOf(Buffer.from('b')), () => {})
    expect(w.bytes).toBe(2 * 9)
    w.deleteUpTo(1)
    expect(readdirSync(dir)).toEqual([segmentName(2)])
    expect(w.bytes).toBe(9)
  })
})

describe('parseFsync', () => {
  it('reads batch, off and interval:<duration>, and nothing else', () => {
    expect(parseFsync('batch', parseDuration)).toEqual({ kind: 'batch' })
    expect(parseFsync('OFF', parseDuration)).toEqual({ kind: 'off' })
    expect(parseFsync('interval:1s', parseDuration)).toEqual({ kind: 'interval', ms: 1000 })
    expect(parseFsync('interval:250ms', parseDuration)).toEqual({ kind: 'interval', ms: 250 })
    for (const bad of ['', 'always', 'interval', 'interval:', 'interval:0s', 'interval:2h', 'interval:5']) expect(parseFsync(bad, parseDuration), bad).toBeNull()
  })
})
