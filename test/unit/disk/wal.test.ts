import { fdatasync, fstatSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseDuration } from '../../../src/core/durations.js'
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

/**
 * Real file calls; each fdatasync is held until release(), then runs for real on
 * its fd after checking that the fd is still the segment file it was issued for
 * (closed: EBADF; reused by a later open: another file's inode).
 */
function slowSyncIo (): WalIo & { held: number, release: () => Promise<void>, wrongFile: number } {
  let held: Array<{ fd: number, ino: number, cb: (err: NodeJS.ErrnoException | null) => void }> = []
  const io = {
    held: 0,
    wrongFile: 0,
    writeSync: REAL_IO.writeSync,
    fdatasync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      held.push({ fd, ino: fstatSync(fd).ino, cb })
      io.held = held.length
    },
    release: async () => {
      const now = held
      held = []
      io.held = 0
      await Promise.all(now.map(({ fd, ino, cb }) => new Promise<void>((resolve) => {
        let sameFile = false
        try { sameFile = fstatSync(fd).ino === ino } catch {}
        if (!sameFile) io.wrongFile++
        fdatasync(fd, (err) => { cb(err); resolve() })
      })))
    }
  }
  return io
}

describe('Wal, rotation while a sync runs', () => {
  it('keeps the old segment open until its fdatasync ends: no EBADF, and every acknowledged record is in its file', async () => {
    const io = slowSyncIo()
    const w = open(io)
    const acked: string[] = []
    const commit = (m: string): Promise<void> => w.commit(frameOf(Buffer.from(m)), () => acked.push(m))!.then(() => {})
    const first = commit('before rotate')
    expect(io.held).toBe(1)
    // A checkpoint rotates while that sync is in flight; new opens may take a freed fd number.
    expect(w.rotate()).toBe(1)
    const other = openSync(join(dir, 'other'), 'w')
    const second = commit('after rotate')
    await io.release()
    await first
    await io.release()
    await second
    closeSync(other)
    expect(io.wrongFile).toBe(0)
    expect(acked).toEqual(['before rotate', 'after rotate'])
    expect(records(1)).toEqual(['before rotate'])
    expect(records(2)).toEqual(['after rotate'])
    expect(statSync(join(dir, segmentName(1))).size).toBeGreaterThan(0)
  })

  it('a record written to the old segment after its sync began waits for a sync that covers it, and close() waits too', async () => {
    const io = slowSyncIo()
    const w = open(io)
    const acked: string[] = []
    const a = w.commit(frameOf(Buffer.from('a')), () => acked.push('a'))!
    const b = w.commit(frameOf(Buffer.from('b')), () => acked.push('b'))!
    w.rotate()
    await io.release()
    await a
    // b was written while a's sync ran: the next cycle syncs segment 1 again before answering it.
    expect(acked).toEqual(['a'])
    expect(io.held).toBe(1)
    const c = w.commit(frameOf(Buffer.from('c')), () => acked.push('c'))!
    w.close()
    await io.release()
    await b
    await io.release()
    await c
    expect(io.wrongFile).toBe(0)
    expect(acked).toEqual(['a', 'b', 'c'])
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
