import { closeSync, ftruncateSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Recovery } from '../../protocol.js'
import { SealedBlock, type BlockLocation } from '../sealed-block.js'
import type { ShardStore } from '../shard-store.js'
import type { Stream } from '../stream.js'
import { BlockFileError, encodeBlockFile, readBlockData, readBlockIndex, type IndexedBlock, type StoredBlock } from './block-file.js'
import { readEntryRecord } from './entry-record.js'
import { TMP_SUFFIX, syncDir, writeFileAtomic } from './files.js'
import { scanRecords } from './record-frame.js'
import { REAL_IO, Wal, segmentId, type FsyncMode, type WalIo } from './wal.js'

// One shard's folder: its write-ahead log and the block files its checkpoints
// wrote. The shard thread owns it alone.
//
//   shard-<i>/wal/<segment>.log          records of the batches it accepted (wal.ts)
//   shard-<i>/blocks/s<slot>-c<K>.blk    blocks sealed before checkpoint K, one file per time slot (block-file.ts)
//   shard-<i>/CHECKPOINT                 {"segment": K, "maxSeq": n}: block files up to K hold every entry of segments ≤ K
//
// Checkpoint K: start segment K+1 → once every record of segments ≤ K is
// stored (a barrier), seal the open blocks and take every block not yet in a
// file → write them to block files c<K> (synced, renamed, folder synced) →
// write CHECKPOINT = K → delete segments ≤ K.
// Start: delete block files of checkpoints after CHECKPOINT (an unfinished
// one: their entries are still in the log) → load the block files → replay
// the segments after CHECKPOINT, cutting off a torn or damaged tail.

export interface ShardDiskOptions {
  dir: string
  fsync: FsyncMode
  /** A checkpoint starts once the segment being written is this old (ms) ... */
  checkpointMs: number
  /** ... or this large (bytes). */
  segmentBytes: number
  io?: WalIo
}

interface FileInfo { name: string, maxTs: number, size: number }

const BLOCK_FILE = /^s(\d+)-c(\d+)\.blk$/

/** Block files kept open for cold reads, the least recently read closed first. */
const OPEN_FILES = 64

class FileHandles {
  private readonly fds = new Map<string, number>()

  fd (path: string): number {
    let fd = this.fds.get(path)
    if (fd !== undefined) {
      this.fds.delete(path)
      this.fds.set(path, fd)
      return fd
    }
    fd = openSync(path, 'r')
    this.fds.set(path, fd)
    if (this.fds.size > OPEN_FILES) {
      const [oldest, oldFd] = this.fds.entries().next().value as [string, number]
      this.fds.delete(oldest)
      closeSync(oldFd)
    }
    return fd
  }

  close (path: string): void {
    const fd = this.fds.get(path)
    if (fd === undefined) return
    this.fds.delete(path)
    closeSync(fd)
  }

  closeAll (): void {
    for (const fd of this.fds.values()) closeSync(fd)
    this.fds.clear()
  }
}

class FileLocation implements BlockLocation {
  constructor (private readonly handles: FileHandles, private readonly path: string, readonly file: string, private readonly at: IndexedBlock) {}
  read (): Buffer {
    try {
      return readBlockData(this.handles.fd(this.path), this.at.offset, this.at.length, this.at.crc)
    } catch (err) {
      if (err instanceof BlockFileError) throw err
      throw new BlockFileError(`block file ${this.file} could not be read (${(err as Error).message})`)
    }
  }
}

export class ShardDisk {
  readonly wal: Wal
  private readonly walDir: string
  private readonly blockDir: string
  private readonly files = new Map<string, FileInfo>()
  private readonly handles: FileHandles
  private checkpointing: Promise<void> | null = null
  /** The last checkpoint failure, until one succeeds. */
  checkpointError: string | null = null
  checkpoints = 0
  private lastCheckpointAt = Date.now()

  private constructor (private readonly options: ShardDiskOptions, private readonly store: ShardStore, firstSegment: number, found: Array<{ id: number, size: number }>, handles: FileHandles) {
    this.handles = handles
    this.walDir = join(options.dir, 'wal')
    this.blockDir = join(options.dir, 'blocks')
    this.wal = new Wal(this.walDir, firstSegment, options.fsync, options.io ?? REAL_IO)
    for (const s of found) this.wal.adopt(s.id, s.size)
  }

  /**
   * Opens (creating it if need be) the shard's folder and loads it into
   * `store`: nothing older than `cutoff` (epoch µs); blocks all older than
   * `hotFrom` stay on disk (cold) and are read when a query wants them.
   */
  static open (options: ShardDiskOptions, store: ShardStore, cutoff: number, hotFrom = -Infinity): { disk: ShardDisk, recovery: Recovery } {
    const started = performance.now()
    const walDir = join(options.dir, 'wal')
    const blockDir = join(options.dir, 'blocks')
    mkdirSync(walDir, { recursive: true })
    mkdirSync(blockDir, { recursive: true })
    const recovery: Recovery = { ms: 0, entries: 0, bytes: 0, blockFiles: 0, segments: 0, records: 0, maxSeq: 0, problems: [] }
    const checkpoint = readCheckpoint(options.dir, recovery)
    recovery.maxSeq = checkpoint.maxSeq
    store.trackUnpersisted()

    const handles = new FileHandles()
    const files = loadBlockFiles(blockDir, checkpoint.segment, cutoff, hotFrom, store, recovery, handles)
    // Whatever the block files loaded is already persisted; only the replayed entries are new.
    store.takeUnpersisted()
    const found = replaySegments(walDir, checkpoint.segment, cutoff, store, recovery)
    recovery.maxSeq = Math.max(recovery.maxSeq, store.maxSeq)
    recovery.entries = store.entries
    const last = found.length === 0 ? checkpoint.segment : Math.max(checkpoint.segment, found[found.length - 1]!.id)
    const disk = new ShardDisk(options, store, last + 1, found, handles)
    for (const f of files) disk.files.set(f.name, f)
    recovery.ms = performance.now() - started
    return { disk, recovery }
  }

  /** Bytes of log and block files on disk. */
  get bytes (): number {
    let n = this.wal.bytes
    for (const f of this.files.values()) n += f.size
    return n
  }

  /** The last disk failure not yet recovered from, or null. */
  get error (): string | null {
    return this.wal.lastError ?? this.checkpointError
  }

  /**
   * Starts a checkpoint when the log holds records and the last checkpoint is
   * CHECKPOINT_INTERVAL old or the log has grown past its size; `force`: whenever it holds any.
   */
  maintain (now = Date.now(), force = false): Promise<void> | null {
    if (this.checkpointing !== null) return this.checkpointing
    const size = this.wal.bytes
    if (size === 0) return null
    if (!force && size < this.options.segmentBytes && now - this.lastCheckpointAt < this.options.checkpointMs) return null
    this.lastCheckpointAt = now
    this.checkpointing = this.checkpoint().finally(() => { this.checkpointing = null })
    return this.checkpointing
  }

  private async checkpoint (): Promise<void> {
    let K: number
    try {
      K = this.wal.rotate()
    } catch (err) {
      this.checkpointError = `a checkpoint could not start a new log segment: ${(err as Error).message}`
      return
    }
    const { taken, maxSeq } = await new Promise<{ taken: ReturnType<ShardStore['takeUnpersisted']>, maxSeq: number }>((resolve) => {
      this.wal.barrier(() => resolve({ taken: this.store.takeUnpersisted(), maxSeq: this.store.maxSeq }))
    })
    try {
      const bySlot = new Map<number, typeof taken>()
      for (const t of taken) {
        const list = bySlot.get(t.part.slot)
        if (list === undefined) bySlot.set(t.part.slot, [t])
        else list.push(t)
      }
      for (const [slot, list] of bySlot) {
        const name = `s${slot}-c${K}.blk`
        const path = join(this.blockDir, name)
        const stored: StoredBlock[] = list.map(({ part, late, block }) => storedOf(part.stream, part.slot, late, block))
        const { chunks, index } = encodeBlockFile(stored)
        const size = await writeFileAtomic(path, chunks)
        let maxTs = -Infinity
        list.forEach(({ block }, i) => {
          block.location = new FileLocation(this.handles, path, name, index[i]!)
          if (block.maxTs > maxTs) maxTs = block.maxTs
        })
        this.files.set(name, { name, maxTs, size })
      }
      if (bySlot.size > 0) await syncDir(this.blockDir)
      await writeFileAtomic(join(this.options.dir, 'CHECKPOINT'), [Buffer.from(JSON.stringify({ segment: K, maxSeq }) + '\n')])
      await syncDir(this.options.dir)
      this.wal.deleteUpTo(K)
      this.checkpointError = null
      this.checkpoints++
    } catch (err) {
      // The blocks not written stay unpersisted and their log segments stay: the next checkpoint tries again.
      this.store.markUnpersisted(taken.filter((t) => t.block.location === null).map((t) => t.part))
      this.checkpointError = `checkpoint ${K} failed: ${(err as Error).message}`
    }
  }

  /** Deletes the block files whose blocks are all older than `cutoff` (epoch µs). */
  async purge (cutoff: number): Promise<void> {
    for (const f of [...this.files.values()]) {
      if (f.maxTs >= cutoff) continue
      this.files.delete(f.name)
      this.handles.close(join(this.blockDir, f.name))
      await unlink(join(this.blockDir, f.name)).catch(() => {})
    }
  }

  close (): void {
    this.wal.close()
    this.handles.closeAll()
  }
}

function storedOf (stream: Stream, slot: number, late: boolean, block: SealedBlock): StoredBlock {
  return { service: stream.service, labels: stream.labels, slot, late, minTs: block.minTs, maxTs: block.maxTs, n: block.n, compressed: block.compressed, data: block.data }
}

function readCheckpoint (dir: string, recovery: Recovery): { segment: number, maxSeq: number } {
  const path = join(dir, 'CHECKPOINT')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { segment: 0, maxSeq: 0 }
    throw err
  }
  try {
    const c = JSON.parse(text) as { segment?: unknown, maxSeq?: unknown }
    if (Number.isSafeInteger(c.segment) && Number.isSafeInteger(c.maxSeq)) return { segment: c.segment as number, maxSeq: c.maxSeq as number }
  } catch {}
  // Written by rename, so only outside damage does this; the log segments then left are replayed.
  recovery.problems.push(`${path} is unreadable; ignored it (block files and log segments are read as if no checkpoint was finished)`)
  return { segment: 0, maxSeq: 0 }
}

function loadBlockFiles (blockDir: string, checkpoint: number, cutoff: number, hotFrom: number, store: ShardStore, recovery: Recovery, handles: FileHandles): FileInfo[] {
  const found: Array<{ name: string, slot: number, ckpt: number }> = []
  for (const name of readdirSync(blockDir)) {
    const path = join(blockDir, name)
    if (name.endsWith(TMP_SUFFIX)) {
      unlinkSync(path)
      continue
    }
    const m = BLOCK_FILE.exec(name)
    if (m === null) continue
    const ckpt = Number(m[2])
    if (ckpt > checkpoint) {
      // An unfinished checkpoint: its entries are still in the log.
      unlinkSync(path)
      continue
    }
    found.push({ name, slot: Number(m[1]), ckpt })
  }
  // In checkpoint order, so each stream-slot's chain is rebuilt in the order it was sealed.
  found.sort((a, b) => a.ckpt - b.ckpt || a.slot - b.slot)
  const files: FileInfo[] = []
  for (const { name } of found) {
    const path = join(blockDir, name)
    let index: ReturnType<typeof readBlockIndex>
    try {
      index = readBlockIndex(path)
    } catch (err) {
      if (!(err instanceof BlockFileError)) throw err
      renameSync(path, `${path}.corrupt`)
      recovery.problems.push(`block file ${name} is damaged (${err.message}); skipped it and renamed it ${name}.corrupt`)
      continue
    }
    const maxTs = index.blocks.reduce((m, b) => Math.max(m, b.maxTs), -Infinity)
    if (maxTs < cutoff) {
      unlinkSync(path)
      continue
    }
    const fd = openSync(path, 'r')
    let read = 0
    try {
      for (const b of index.blocks) {
        if (b.maxTs < cutoff) continue
        let data: Buffer | null = null
        if (b.maxTs >= hotFrom) {
          try {
            data = readBlockData(fd, b.offset, b.length, b.crc)
            read += b.length
          } catch (err) {
            if (!(err instanceof BlockFileError)) throw err
            recovery.problems.push(`block file ${name}: a block of ${b.service} is damaged (${err.message}); skipped its ${b.n} entries`)
            continue
          }
        }
        store.loadBlock(b.service, b.labels, b.slot, b.late, SealedBlock.stored(b.minTs, b.maxTs, b.n, data, b.compressed, new FileLocation(handles, path, name, b)))
      }
    } finally {
      closeSync(fd)
    }
    recovery.blockFiles++
    // What was read: the index, and the data of the blocks loaded into memory.
    recovery.bytes += index.size - index.blocks.reduce((n, b) => n + b.length, 0) + read
    files.push({ name, maxTs, size: index.size })
  }
  return files
}

function replaySegments (walDir: string, checkpoint: number, cutoff: number, store: ShardStore, recovery: Recovery): Array<{ id: number, size: number }> {
  const segments: number[] = []
  for (const name of readdirSync(walDir)) {
    const id = segmentId(name)
    if (id === null) continue
    // Covered by the checkpoint; a crash came before they were deleted.
    if (id <= checkpoint) unlinkSync(join(walDir, name))
    else segments.push(id)
  }
  segments.sort((a, b) => a - b)
  const found: Array<{ id: number, size: number }> = []
  let streams: Array<Stream | null> = []
  const visitor = {
    stream: (i: number, service: string, labels: string[]) => { streams[i] = store.streamFor(service, labels, true) },
    entry: (i: number, ts: number, seq: number, message: string, attrs: string[] | null) => {
      if (ts >= cutoff) store.add(streams[i]!, ts, seq, message, attrs, Date.now())
      else if (seq > store.maxSeq) store.maxSeq = seq
    }
  }
  for (const id of segments) {
    const name = `${String(id).padStart(16, '0')}.log`
    const path = join(walDir, name)
    const buf = readFileSync(path)
    const scan = scanRecords(buf)
    for (const payload of scan.records) {
      streams = []
      try {
        readEntryRecord(payload, visitor)
        recovery.records++
      } catch (err) {
        recovery.problems.push(`log segment ${name}: a record could not be read (${(err as Error).message}); skipped it`)
      }
    }
    if (scan.problem !== null) {
      const fd = openSync(path, 'r+')
      try {
        ftruncateSync(fd, scan.validBytes)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      recovery.problems.push(`log segment ${name}: ${scan.problem}; cut off the last ${scan.droppedBytes} bytes (a write torn by a crash, or damage); every record before it was kept`)
    }
    recovery.segments++
    recovery.bytes += scan.validBytes
    found.push({ id, size: scan.validBytes })
  }
  return found
}

/** Total bytes of a shard folder's files (for tests and tools). */
export function folderBytes (dir: string): number {
  let n = 0
  for (const sub of ['wal', 'blocks']) {
    try {
      for (const name of readdirSync(join(dir, sub))) n += statSync(join(dir, sub, name)).size
    } catch {}
  }
  return n
}
