import { closeSync, fdatasync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'

// The write-ahead log of one shard: numbered segment files of framed records
// (record-frame.ts), appended by the shard thread and synced in groups.
//
//   append ─► write(2) into the current segment (the kernel has it: a killed process loses nothing)
//   FSYNC=batch:       the entries wait; one fdatasync covers every record written before it
//                      started (group commit); then they are stored and the requests answered
//   FSYNC=interval:N   stored and answered at once; fdatasync every N
//   FSYNC=off          stored and answered at once; the OS writes back when it likes
//
// Records are applied (stored in memory) in the order they were written, so a
// barrier (for a checkpoint) can run exactly between two records.

export type FsyncMode = { kind: 'batch' } | { kind: 'interval', ms: number } | { kind: 'off' }

/** The system calls the log makes, replaceable so tests can make the disk fail. */
export interface WalIo {
  writeSync: (fd: number, buf: Buffer, offset: number, length: number, position: number) => number
  fdatasync: (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void
}

export const REAL_IO: WalIo = {
  writeSync: (fd, buf, offset, length, position) => writeSync(fd, buf, offset, length, position),
  fdatasync: (fd, callback) => fdatasync(fd, callback)
}

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG'])

/** A write or sync that failed; `full` when the disk (or quota) is full. */
export class WalError extends Error {
  override name = 'WalError'
  constructor (message: string, readonly full: boolean) {
    super(message)
  }

  static of (what: string, err: unknown): WalError {
    const e = err as NodeJS.ErrnoException
    const full = FULL_CODES.has(e.code ?? '')
    return new WalError(`${what} failed (${e.code ?? e.message})${full ? ': the disk is full; free space or raise the quota, then retry' : ': the disk is failing; nothing was stored, retry later'}`, full)
  }
}

export const segmentName = (id: number): string => `${String(id).padStart(16, '0')}.log`
export const segmentId = (name: string): number | null => /^\d{16}\.log$/.test(name) ? Number(name.slice(0, 16)) : null

class Segment {
  size = 0
  /** Bytes written since the last completed sync began. */
  unsynced = false
  /** An fdatasync of this file is in flight (issued, its callback not yet run). */
  syncing = false
  closed = false
  private closeAfterSync = false
  constructor (readonly id: number, readonly path: string, readonly fd: number) {}

  /**
   * Closes the file, or, while its fdatasync is in flight, once it ends:
   * closing under a running sync made it fail with EBADF (a spurious 503 on a
   * healthy disk), or, with the fd number reused by the next open, sync some
   * other file and acknowledge records never synced.
   */
  close (): void {
    if (this.closed) return
    if (this.syncing) {
      this.closeAfterSync = true
      return
    }
    this.closed = true
    try { closeSync(this.fd) } catch {}
  }

  /** Called when this file's fdatasync has ended: a close asked for meanwhile happens now. */
  synced (): void {
    this.syncing = false
    if (this.closeAfterSync) this.close()
  }
}

type Waiting = { apply: () => void, resolve: () => void, reject: (err: Error) => void } | { barrier: () => void }

export class Wal {
  private current: Segment
  /** Rotated segments not yet synced and closed. */
  private rotated: Segment[] = []
  /** Every segment on disk (not yet deleted) and its size. */
  private readonly sizes = new Map<number, number>()
  private readonly waiting: Waiting[] = []
  private syncing = false
  private readonly timer: NodeJS.Timeout | null = null
  /** The last sync failure in interval mode (no request is waiting to be told), until a sync succeeds. */
  lastError: string | null = null

  constructor (private readonly dir: string, firstId: number, readonly mode: FsyncMode, private readonly io: WalIo = REAL_IO) {
    this.current = this.openSegment(firstId)
    if (mode.kind === 'interval') {
      this.timer = setInterval(() => { if (!this.syncing) this.syncCycle() }, mode.ms)
      this.timer.unref()
    }
  }

  private openSegment (id: number): Segment {
    const path = join(this.dir, segmentName(id))
    const seg = new Segment(id, path, openSync(path, 'wx'))
    this.sizes.set(id, 0)
    return seg
  }

  /** Bytes of log on disk. */
  get bytes (): number {
    let n = 0
    for (const size of this.sizes.values()) n += size
    return n
  }

  /**
   * Appends a framed record, then stores its entries (`apply`) once it is as
   * durable as FSYNC asks: at once (null is returned) or when the promise
   * resolves. Throws WalError when the write fails (nothing is stored); the
   * promise rejects with one when the sync fails (nothing is stored).
   */
  commit (frame: Buffer, apply: () => void): Promise<void> | null {
    this.append(frame)
    if (this.mode.kind !== 'batch') {
      apply()
      return null
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ apply, resolve, reject })
      if (!this.syncing) this.syncCycle()
    })
  }

  private append (frame: Buffer): void {
    const seg = this.current
    let done = 0
    try {
      // At an explicit position: after a cut-off failed write, the next record goes where that one began.
      while (done < frame.length) done += this.io.writeSync(seg.fd, frame, done, frame.length - done, seg.size + done)
    } catch (err) {
      // Cut off what was written of this record, so records after it are not hidden behind a torn one.
      let cut = false
      if (done > 0) {
        try {
          ftruncateSync(seg.fd, seg.size)
          cut = true
        } catch {}
      }
      if (done > 0 && !cut) this.tryRotate()
      throw WalError.of('writing the write-ahead log', err)
    }
    seg.size += frame.length
    seg.unsynced = true
    this.sizes.set(seg.id, seg.size)
  }

  /** Syncs every segment written since the last sync; then settles what was waiting when it began. */
  private syncCycle (): void {
    const segments = [...this.rotated, this.current].filter((s) => s.unsynced && !s.closed)
    const covered = this.waiting.length
    if (segments.length === 0) {
      this.settle(covered, null)
      return
    }
    this.syncing = true
    for (const s of segments) {
      s.unsynced = false
      s.syncing = true
    }
    let left = segments.length
    let failure: NodeJS.ErrnoException | null = null
    for (const s of segments) {
      this.io.fdatasync(s.fd, (err) => {
        s.synced()
        if (err !== null) {
          failure ??= err
          // The kernel may have dropped what it could not write: never sync this file again as if it were whole.
          if (s === this.current) this.tryRotate()
        }
        if (--left > 0) return
        this.syncing = false
        this.rotated = this.rotated.filter((r) => {
          if (r.unsynced) return true
          r.close()
          return false
        })
        this.lastError = failure === null ? null : WalError.of('syncing the write-ahead log', failure).message
        this.settle(covered, failure === null ? null : WalError.of('syncing the write-ahead log', failure))
        if (this.waiting.some((w) => 'apply' in w)) this.syncCycle()
      })
    }
  }

  /** Stores and answers the first `covered` waiting records (or fails them), then runs barriers now at the front. */
  private settle (covered: number, failure: Error | null): void {
    const done = this.waiting.splice(0, covered)
    for (const w of done) this.run(w, failure)
    while (this.waiting.length > 0 && 'barrier' in this.waiting[0]!) this.run(this.waiting.shift()!, null)
  }

  private run (w: Waiting, failure: Error | null): void {
    if ('barrier' in w) {
      w.barrier()
      return
    }
    if (failure !== null) {
      w.reject(failure)
      return
    }
    try {
      w.apply()
      w.resolve()
    } catch (err) {
      w.reject(err as Error)
    }
  }

  /** Runs `fn` after every record written so far is stored, and before any record written later. */
  barrier (fn: () => void): void {
    if (this.waiting.length === 0) fn()
    else this.waiting.push({ barrier: fn })
  }

  /**
   * Starts a new segment; returns the id of the last one, which takes no more
   * records. Its records written before a sync in flight began are answered when
   * that sync ends; later ones by the next sync (it stays in `rotated`), so a
   * record is never acknowledged before a sync of its own segment has completed.
   */
  rotate (): number {
    const old = this.current
    this.current = this.openSegment(old.id + 1)
    if (old.unsynced && this.mode.kind !== 'off') this.rotated.push(old)
    else old.close()
    return old.id
  }

  /** Rotates if a new segment can be made; if not, the next append fails and tries again. */
  private tryRotate (): void {
    try {
      this.rotate()
    } catch {}
  }

  /** Deletes the segments up to `id` (a checkpoint covers them). */
  deleteUpTo (id: number): void {
    for (const seg of [...this.sizes.keys()]) {
      if (seg > id) continue
      try {
        unlinkSync(join(this.dir, segmentName(seg)))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
      this.sizes.delete(seg)
    }
  }

  /** Adds a segment found at start (being replayed), so its bytes count until a checkpoint deletes it. */
  adopt (id: number, size: number): void {
    this.sizes.set(id, size)
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    for (const s of [...this.rotated, this.current]) s.close()
  }
}

/** Reads FSYNC: `batch`, `off` or `interval:<duration>` (duration as parsed by `duration`); null when it is none of them. */
export function parseFsync (text: string, duration: (text: string) => number): FsyncMode | null {
  const t = text.trim().toLowerCase()
  if (t === 'batch') return { kind: 'batch' }
  if (t === 'off') return { kind: 'off' }
  if (!t.startsWith('interval:')) return null
  const ms = duration(t.slice('interval:'.length))
  return ms > 0 && ms <= 3_600_000 ? { kind: 'interval', ms } : null
}

export const fsyncText = (mode: FsyncMode): string => mode.kind === 'interval' ? `interval:${mode.ms}ms` : mode.kind
