import { closeSync, copyFileSync, ftruncateSync, fsyncSync, openSync, readFileSync, unlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Recovery } from '../shard-messages.js'
import { SealedBlock } from '../sealed-block.js'
import type { MemoryStore } from '../store.js'
import type { Stream } from '../stream.js'
import { BlockFileError, readBlockData, readBlockIndex } from './block-file.js'
import { readEntryRecord } from './entry-record.js'
import { FileLocation, type FileHandles } from './file-handles.js'
import { TMP_SUFFIX } from './files.js'
import { scanRecords } from './record-frame.js'
import { asideName, ensureDir, regularFile, regularFiles, setAside } from './set-aside.js'
import { segmentId, segmentName } from './wal.js'

// Start-up of one shard folder: what is loaded from where, and what is done
// with damage (nothing is deleted that might hold the only copy of an entry).
//
//   CHECKPOINT = K read:  delete block files c<K'> with K' > K (an unfinished checkpoint: their
//                         entries are still in the log) and segments ≤ K (covered) → load the block
//                         files → replay the segments after K
//   CHECKPOINT unknown    (missing with block files present, empty, garbage, not a file: set aside as
//                         CHECKPOINT.corrupt): rebuilt from what is present → load every block file →
//                         replay every segment, skipping the entries (by sequence number) that a block
//                         file of a checkpoint ≥ the first segment present already holds. An entry of
//                         segment s only ever goes to a block file c<K> with K ≥ s, so older block
//                         files cannot overlap the log; one delete here once turned 1000 entries into 0.

export interface FileInfo { name: string, maxTs: number, size: number }

export interface LoadedFolder {
  files: FileInfo[]
  segments: Array<{ id: number, size: number }>
  /** The id of the log segment to write next: above every segment and every block file's checkpoint. */
  nextSegment: number
}

/** Rebuilding an unknown checkpoint: entries of block files from checkpoint `from` on, to skip in the log. */
interface Rebuild { from: number, seqs: Set<number>, maxSeq: number, skipped: number }

const BLOCK_FILE = /^s(\d+)-c(\d+)\.blk$/

/** Loads `dir` (a shard folder, made if need be) into `store`; see shard-disk.ts for `cutoff` and `hotFrom`. */
export function loadFolder (dir: string, store: MemoryStore, cutoff: number, hotFrom: number, handles: FileHandles, recovery: Recovery): LoadedFolder {
  const walDir = join(dir, 'wal')
  const blockDir = join(dir, 'blocks')
  for (const d of [dir, walDir, blockDir]) ensureDir(d, recovery.problems)
  const blocks: Array<{ name: string, slot: number, ckpt: number }> = []
  for (const name of regularFiles(blockDir, (n) => BLOCK_FILE.test(n) || n.endsWith(TMP_SUFFIX), recovery.problems)) {
    const m = BLOCK_FILE.exec(name)
    // A checkpoint's temporary file: the crash came before its rename, so its blocks are still in the log.
    if (m === null) unlinkSync(join(blockDir, name))
    else blocks.push({ name, slot: Number(m[1]), ckpt: Number(m[2]) })
  }
  const segments = regularFiles(walDir, (n) => segmentId(n) !== null, recovery.problems).map((n) => segmentId(n)!).sort((a, b) => a - b)
  const checkpoint = readCheckpoint(dir, recovery)
  let load = blocks
  let replay = segments
  let rebuild: Rebuild | null = null
  if (typeof checkpoint !== 'string') {
    recovery.maxSeq = checkpoint.maxSeq
    load = blocks.filter((b) => b.ckpt <= checkpoint.segment)
    for (const b of blocks) if (b.ckpt > checkpoint.segment) unlinkSync(join(blockDir, b.name))
    replay = segments.filter((id) => id > checkpoint.segment)
    // Covered by the checkpoint; a crash came before they were deleted.
    for (const id of segments) if (id <= checkpoint.segment) unlinkSync(join(walDir, segmentName(id)))
  } else {
    rebuild = { from: segments[0] ?? Infinity, seqs: new Set(), maxSeq: 0, skipped: 0 }
  }
  store.trackUnpersisted()
  // In checkpoint order, so each stream-slot's chain is rebuilt in the order it was sealed.
  load.sort((a, b) => a.ckpt - b.ckpt || a.slot - b.slot)
  const files = loadBlockFiles(blockDir, load, cutoff, hotFrom, store, recovery, handles, rebuild)
  // Whatever the block files loaded is already persisted; only the replayed entries are new.
  store.takeUnpersisted()
  const found = replaySegments(walDir, replay, cutoff, store, recovery, rebuild)
  if (rebuild !== null) {
    recovery.maxSeq = rebuild.maxSeq
    if (checkpoint !== 'missing' || blocks.length > 0) {
      const why = checkpoint === 'missing' ? 'there is no CHECKPOINT (lost, or the first checkpoint did not finish)' : 'CHECKPOINT was unusable'
      recovery.problems.push(`${why}: rebuilt it from the ${blocks.length} block files and ${segments.length} log segments present; loaded every block file (none deleted) and replayed every segment, skipping ${rebuild.skipped} logged entries a block file already held`)
    }
  }
  const last = Math.max(typeof checkpoint === 'string' ? 0 : checkpoint.segment, ...replay, ...(rebuild === null ? [] : blocks.map((b) => b.ckpt)))
  return { files, segments: found, nextSegment: last + 1 }
}

/** The checkpoint, or why there is none ('missing', or 'unusable': then it was set aside and reported). */
function readCheckpoint (dir: string, recovery: Recovery): { segment: number, maxSeq: number } | 'missing' | 'unusable' {
  const path = join(dir, 'CHECKPOINT')
  const state = regularFile(path, recovery.problems)
  if (state === 'missing') return 'missing'
  if (state === 'set-aside') return 'unusable'
  const text = readFileSync(path, 'utf8')
  try {
    const c = JSON.parse(text) as { segment?: unknown, maxSeq?: unknown }
    if (Number.isSafeInteger(c.segment) && Number.isSafeInteger(c.maxSeq)) return { segment: c.segment as number, maxSeq: c.maxSeq as number }
  } catch {}
  // Written by rename, so only outside damage does this.
  const to = setAside(path)
  recovery.problems.push(`${path} is unreadable (${text.length === 0 ? 'empty' : `${text.length} bytes that are not {"segment": K, "maxSeq": n}`}); moved it aside as ${to}`)
  return 'unusable'
}

function loadBlockFiles (blockDir: string, load: Array<{ name: string, ckpt: number }>, cutoff: number, hotFrom: number, store: MemoryStore, recovery: Recovery, handles: FileHandles, rebuild: Rebuild | null): FileInfo[] {
  const files: FileInfo[] = []
  for (const { name, ckpt } of load) {
    const path = join(blockDir, name)
    let index: ReturnType<typeof readBlockIndex>
    try {
      index = readBlockIndex(path)
    } catch (err) {
      if (!(err instanceof BlockFileError)) throw err
      const to = setAside(path)
      recovery.problems.push(`block file ${name} is damaged (${err.message}); skipped it and renamed it ${to}`)
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
        const block = SealedBlock.stored(b.minTs, b.maxTs, b.n, data, b.codec, new FileLocation(handles, path, name, b))
        if (rebuild !== null && !noteSeqs(block, ckpt >= rebuild.from, rebuild)) {
          recovery.problems.push(`block file ${name}: a block of ${b.service} is damaged; skipped its ${b.n} entries`)
          continue
        }
        store.loadBlock(b.service, b.labels, b.slot, b.late, block)
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

/** Notes a block's sequence numbers for a rebuild (the largest; all of them when `overlaps` the log); false when it cannot be read. */
function noteSeqs (block: SealedBlock, overlaps: boolean, rebuild: Rebuild): boolean {
  let seq: Float64Array
  try {
    seq = block.view().seq
  } catch (err) {
    if (err instanceof BlockFileError || err instanceof RangeError) return false
    throw err
  }
  for (const s of seq) {
    if (s > rebuild.maxSeq) rebuild.maxSeq = s
    if (overlaps) rebuild.seqs.add(s)
  }
  return true
}

function replaySegments (walDir: string, segments: number[], cutoff: number, store: MemoryStore, recovery: Recovery, rebuild: Rebuild | null): Array<{ id: number, size: number }> {
  const found: Array<{ id: number, size: number }> = []
  let streams: Array<Stream | null> = []
  const visitor = {
    stream: (i: number, service: string, labels: string[]) => { streams[i] = store.streamFor(service, labels, true) },
    entry: (i: number, ts: number, seq: number, message: string, attrs: string[] | null) => {
      if (rebuild !== null) {
        if (seq > rebuild.maxSeq) rebuild.maxSeq = seq
        if (rebuild.seqs.has(seq)) {
          rebuild.skipped++
          return
        }
      }
      if (ts >= cutoff) store.add(streams[i]!, ts, seq, message, attrs, Date.now())
      else if (seq > store.maxSeq) store.maxSeq = seq
    }
  }
  for (const id of segments) {
    const name = segmentName(id)
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
      // A flipped bit also cuts off the whole records after it: keep the segment as it was for a person to look at.
      const copy = asideName(path)
      copyFileSync(path, copy)
      const fd = openSync(path, 'r+')
      try {
        ftruncateSync(fd, scan.validBytes)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      recovery.problems.push(`log segment ${name}: ${scan.problem}; cut off the last ${scan.droppedBytes} bytes (a write torn by a crash, or damage); every record before it was kept, and the segment as it was is kept as ${basename(copy)}`)
    }
    recovery.segments++
    recovery.bytes += scan.validBytes
    found.push({ id, size: scan.validBytes })
  }
  return found
}
