import { open, rename, unlink } from 'node:fs/promises'

// Durable file writes: a file appears whole under its name or not at all.
//
//   write to <name>.tmp → fsync it → rename over <name> → fsync the folder (once, for many renames)
//
// A crash before the rename leaves only a .tmp file (removed at the next
// start); after the folder's fsync the new name survives a power cut.

export const TMP_SUFFIX = '.tmp'

/** Writes `chunks` to `path` through a synced temporary file; the caller syncs the folder afterwards (syncDir). */
export async function writeFileAtomic (path: string, chunks: readonly Uint8Array[]): Promise<number> {
  const tmp = path + TMP_SUFFIX
  const fh = await open(tmp, 'w')
  let bytes = 0
  try {
    let pending = chunks.slice()
    while (pending.length > 0) {
      const { bytesWritten } = await fh.writev(pending)
      bytes += bytesWritten
      pending = advance(pending, bytesWritten)
    }
    await fh.datasync()
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    throw err
  }
  await fh.close()
  await rename(tmp, path)
  return bytes
}

/** What is left of `chunks` after the first `n` bytes were written. */
function advance (chunks: Uint8Array[], n: number): Uint8Array[] {
  let i = 0
  while (i < chunks.length && n >= chunks[i]!.length) n -= chunks[i++]!.length
  const rest = chunks.slice(i)
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n)
  return rest
}

/** Makes the folder's entries (new names, renames, deletions) durable. */
export async function syncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
