import { lstatSync, mkdirSync, readdirSync, renameSync, type Stats } from 'node:fs'
import { basename, join } from 'node:path'

// What start-up does with things in a shard folder it cannot use: they are
// moved aside, never deleted, and reported, and start-up goes on.
//
//   <name>  ─►  <name>.corrupt   (or <name>.corrupt-2, -3, ... when that name is taken)
//
// Only regular files are ever opened: a directory where a file belongs made
// start-up fail (EISDIR), and a FIFO made open() wait forever for a writer.
// lstat, not stat: a symbolic link is set aside too, never followed.

export const ASIDE_SUFFIX = '.corrupt'

const lstatOrNull = (path: string): Stats | null => {
  try {
    return lstatSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** A name next to `path` that nothing uses yet: `<path>.corrupt`, else `<path>.corrupt-<n>`. */
export function asideName (path: string): string {
  for (let n = 1; n <= 1000; n++) {
    const candidate = n === 1 ? path + ASIDE_SUFFIX : `${path}${ASIDE_SUFFIX}-${n}`
    if (lstatOrNull(candidate) === null) return candidate
  }
  throw new Error(`${path}: ${ASIDE_SUFFIX} names 1 to 1000 are all taken; remove old ${ASIDE_SUFFIX} entries from the folder`)
}

/** Renames `path` aside (see asideName) and returns the new name's last part. */
export function setAside (path: string): string {
  const to = asideName(path)
  renameSync(path, to)
  return basename(to)
}

const kind = (s: Stats): string => s.isDirectory() ? 'a directory' : s.isFIFO() ? 'a FIFO' : s.isSymbolicLink() ? 'a symbolic link' : s.isSocket() ? 'a socket' : 'a device'

/** Makes `dir` a directory: creates it, or first sets aside whatever non-directory holds its name (reported in `problems`). */
export function ensureDir (dir: string, problems: string[]): void {
  const s = lstatOrNull(dir)
  if (s !== null && !s.isDirectory()) {
    const to = setAside(dir)
    problems.push(`${dir} is not a directory; moved it aside as ${to} and made a new, empty ${basename(dir)} directory`)
  }
  mkdirSync(dir, { recursive: true })
}

/**
 * The names in `dir` that `ours` claims and that are regular files. A claimed
 * name that is anything else (a directory, FIFO, link, socket, device) is set
 * aside and reported; names not claimed are left alone.
 */
export function regularFiles (dir: string, ours: (name: string) => boolean, problems: string[]): string[] {
  const files: string[] = []
  for (const name of readdirSync(dir)) {
    if (!ours(name)) continue
    const path = join(dir, name)
    const s = lstatOrNull(path)
    if (s === null) continue
    if (s.isFile()) {
      files.push(name)
      continue
    }
    const to = setAside(path)
    problems.push(`${path} is ${kind(s)}, not a file; never opened it, moved it aside as ${to}`)
  }
  return files
}

/** The entry at `path` if it is a regular file: 'file'; 'missing'; else it is set aside and reported, 'set-aside'. */
export function regularFile (path: string, problems: string[]): 'file' | 'missing' | 'set-aside' {
  const s = lstatOrNull(path)
  if (s === null) return 'missing'
  if (s.isFile()) return 'file'
  const to = setAside(path)
  problems.push(`${path} is ${kind(s)}, not a file; never opened it, moved it aside as ${to}`)
  return 'set-aside'
}
