import { closeSync, openSync } from 'node:fs'
import type { BlockLocation } from '../sealed-block.js'
import { BlockFileError, readBlockData, type IndexedBlock } from './block-file.js'

// Cold reads: the block files a shard keeps open (a handful, least recently
// read closed first), and where a block sits in one of them.

/** Block files kept open for cold reads, the least recently read closed first. */
const OPEN_FILES = 64

export class FileHandles {
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

export class FileLocation implements BlockLocation {
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
