import { execFileSync } from 'node:child_process'
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ensureDir, regularFile, regularFiles, setAside } from '../../../src/store/disk/set-aside.js'

let dir = ''
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})
const fresh = (): string => (dir = mkdtempSync(join(tmpdir(), 'logagg-aside-')))

describe('set-aside', () => {
  it('moves aside under .corrupt, then .corrupt-2, -3, never over an earlier one', () => {
    const d = fresh()
    for (const text of ['one', 'two', 'three']) {
      writeFileSync(join(d, 'CHECKPOINT'), text)
      setAside(join(d, 'CHECKPOINT'))
    }
    expect(readdirSync(d).sort()).toEqual(['CHECKPOINT.corrupt', 'CHECKPOINT.corrupt-2', 'CHECKPOINT.corrupt-3'])
    expect(readFileSync(join(d, 'CHECKPOINT.corrupt-3'), 'utf8')).toBe('three')
  })

  it('lists only regular files among the names it claims; sets the others aside (a FIFO unopened) and reports them', () => {
    const d = fresh()
    writeFileSync(join(d, 'a.blk'), '')
    mkdirSync(join(d, 'b.blk'))
    execFileSync('mkfifo', [join(d, 'c.blk')])
    mkdirSync(join(d, 'notes'))
    const problems: string[] = []
    expect(regularFiles(d, (n) => n.endsWith('.blk'), problems)).toEqual(['a.blk'])
    expect(lstatSync(join(d, 'c.blk.corrupt')).isFIFO()).toBe(true)
    expect(lstatSync(join(d, 'notes')).isDirectory()).toBe(true)
    expect(problems.sort()).toEqual([
      expect.stringMatching(/b\.blk is a directory, not a file; never opened it, moved it aside as b\.blk\.corrupt/),
      expect.stringMatching(/c\.blk is a FIFO, not a file; never opened it, moved it aside as c\.blk\.corrupt/)
    ])
    expect(regularFile(join(d, 'a.blk'), problems)).toBe('file')
    expect(regularFile(join(d, 'none'), problems)).toBe('missing')
  })

  it('ensureDir: a file where a folder belongs is moved aside and a new folder made', () => {
    const d = fresh()
    writeFileSync(join(d, 'shard-0'), 'x')
    const problems: string[] = []
    ensureDir(join(d, 'shard-0'), problems)
    ensureDir(join(d, 'shard-0', 'wal'), problems)
    expect(lstatSync(join(d, 'shard-0', 'wal')).isDirectory()).toBe(true)
    expect(readFileSync(join(d, 'shard-0.corrupt'), 'utf8')).toBe('x')
    expect(problems).toEqual([expect.stringMatching(/shard-0 is not a directory; moved it aside as shard-0\.corrupt and made a new, empty shard-0 directory/)])
    // An existing folder is left as it is.
    ensureDir(join(d, 'shard-0', 'wal'), problems)
    expect(problems).toHaveLength(1)
  })
})
