import { readdirSync, statSync } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Recovery } from '../shard-messages.js'
import type { SealedBlock } from '../sealed-block.js'
import type { MemoryStore } from '../store.js'
import type { Stream } from '../stream.js'
import { encodeBlockFile, type StoredBlock } from './block-file.js'
import { FileHandles, FileLocation } from './file-handles.js'
import { syncDir, writeFileAtomic } from './files.js'
import { loadFolder, type FileInfo } from './shard-load.js'
import { REAL_IO, Wal, type FsyncMode, type WalIo } from './wal.js'

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
// Start (shard-load.ts): load the block files the checkpoint covers → replay
// the segments after it; damage is set aside and reported, never deleted.

export interface ShardDiskOptions {
  dir: string
  fsync: FsyncMode
  /** A checkpoint starts once the segment being written is this old (ms) ... */
  checkpointMs: number
  /** ... or this large (bytes). */
  segmentBytes: number
  io?: WalIo
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

  private constructor (private readonly options: ShardDiskOptions, private readonly store: MemoryStore, firstSegment: number, found: Array<{ id: number, size: number }>, handles: FileHandles) {
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
  static open (options: ShardDiskOptions, store: MemoryStore, cutoff: number, hotFrom = -Infinity): { disk: ShardDisk, recovery: Recovery } {
    const started = performance.now()
    const recovery: Recovery = { ms: 0, entries: 0, bytes: 0, blockFiles: 0, segments: 0, records: 0, maxSeq: 0, problems: [] }
    const handles = new FileHandles()
    const { files, segments, nextSegment } = loadFolder(options.dir, store, cutoff, hotFrom, handles, recovery)
    recovery.maxSeq = Math.max(recovery.maxSeq, store.maxSeq)
    recovery.entries = store.entries
    const disk = new ShardDisk(options, store, nextSegment, segments, handles)
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
    const { taken, maxSeq } = await new Promise<{ taken: ReturnType<MemoryStore['takeUnpersisted']>, maxSeq: number }>((resolve) => {
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
  return { service: stream.service, labels: stream.labels, slot, late, minTs: block.minTs, maxTs: block.maxTs, n: block.n, codec: block.codec, data: block.data }
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
