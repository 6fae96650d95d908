import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statfsSync, unlinkSync, writeSync, fsyncSync } from 'node:fs'
import { join } from 'node:path'

// The front thread's part of DATA_DIR: the lock that keeps a second server
// out, and meta.json, which records the shard count the folders were written
// with (services are hashed to shards, so another count would put a
// service's new entries on a shard that does not hold its old ones).
//
//   DATA_DIR/LOCK        pid of the server using the folder
//   DATA_DIR/meta.json   {"version": 1, "shards": N}
//   DATA_DIR/shard-<i>/  each shard's own folder (see shard-disk.ts)

export class DataDirError extends Error {
  override name = 'DataDirError'
}

const META_VERSION = 1
/** Folders locked by this process, so two servers in one process (tests) exclude each other too. */
const heldHere = new Set<string>()

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface DataDirLock {
  /** The pid of a dead server whose lock was taken over, or null. */
  tookOverFrom: number | null
  release (): void
}

/** Creates DATA_DIR if need be and locks it; throws DataDirError when another live process holds it. */
export function lockDataDir (dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'LOCK')
  if (heldHere.has(path)) throw new DataDirError(`DATA_DIR ${dir} is already used by this process; give each server its own DATA_DIR`)
  let tookOverFrom: number | null = null
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, `${process.pid}\n`)
      fsyncSync(fd)
      closeSync(fd)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
    }
    let owner = NaN
    try {
      owner = Number.parseInt(readFileSync(path, 'utf8'), 10)
    } catch {}
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new DataDirError(`DATA_DIR ${dir} is in use by another server (pid ${owner}, see ${path}); stop it first, or give this server another DATA_DIR`)
    }
    // The owner is gone (killed, crashed): take the lock over.
    tookOverFrom = Number.isSafeInteger(owner) ? owner : null
    unlinkSync(path)
  }
  heldHere.add(path)
  return {
    tookOverFrom,
    release: () => {
      if (!heldHere.delete(path)) return
      try {
        if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path)
      } catch {}
    }
  }
}

/** Checks meta.json against `shards`, writing it on first use; throws DataDirError on a mismatch. */
export function checkMeta (dir: string, shards: number): void {
  const path = join(dir, 'meta.json')
  let text: string | null = null
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (text === null) {
    const tmp = `${path}.tmp`
    const fd = openSync(tmp, 'w')
    writeSync(fd, JSON.stringify({ version: META_VERSION, shards }) + '\n')
    fsyncSync(fd)
    closeSync(fd)
    renameSync(tmp, path)
    return
  }
  let meta: { version?: unknown, shards?: unknown }
  try {
    meta = JSON.parse(text) as typeof meta
  } catch {
    throw new DataDirError(`${path} is not valid JSON; restore it ({"version":1,"shards":N}) or start with an empty DATA_DIR`)
  }
  if (meta.version !== META_VERSION) throw new DataDirError(`${path} has version ${String(meta.version)}, this server reads version ${META_VERSION}`)
  if (meta.shards !== shards) {
    throw new DataDirError(`DATA_DIR ${dir} was written with SHARDS=${String(meta.shards)} and this server runs SHARDS=${shards}; services are hashed to shards, so start with SHARDS=${String(meta.shards)} (or an empty DATA_DIR)`)
  }
}

/** Free bytes on the file system holding `dir`. */
export function freeBytes (dir: string): number {
  const s = statfsSync(dir)
  return s.bavail * s.bsize
}

export const shardDir = (dir: string, shard: number): string => join(dir, `shard-${shard}`)
