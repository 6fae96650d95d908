import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DataDirError, checkMeta, lockDataDir } from '../../../src/store/disk/data-dir.js'

let dir = ''
afterEach(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })
const fresh = (): string => (dir = mkdtempSync(join(tmpdir(), 'logagg-dir-')))

describe('DATA_DIR lock', () => {
  it('is taken with our pid, refused to a second holder while held, and given back', () => {
    const d = fresh()
    const lock = lockDataDir(d)
    expect(readFileSync(join(d, 'LOCK'), 'utf8').trim()).toBe(String(process.pid))
    expect(() => lockDataDir(d)).toThrow(DataDirError)
    lock.release()
    expect(existsSync(join(d, 'LOCK'))).toBe(false)
    lockDataDir(d).release()
  })

  it('is refused while another live process holds it, naming its pid', () => {
    const d = fresh()
    // Our parent (the shell or vitest's runner) is alive and is not us.
    writeFileSync(join(d, 'LOCK'), `${process.ppid}\n`)
    expect(() => lockDataDir(d)).toThrow(new RegExp(`in use by another server \\(pid ${process.ppid}`))
  })

  it('is taken over from a process that is gone', () => {
    const d = fresh()
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    const pid = Number(gone.stdout.trim())
    writeFileSync(join(d, 'LOCK'), `${pid}\n`)
    const lock = lockDataDir(d)
    expect(lock.tookOverFrom).toBe(pid)
    expect(readFileSync(join(d, 'LOCK'), 'utf8').trim()).toBe(String(process.pid))
    lock.release()
  })
})

describe('meta.json', () => {
  it('records the shard count at first start and refuses another count later', () => {
    const d = fresh()
    checkMeta(d, 4)
    expect(JSON.parse(readFileSync(join(d, 'meta.json'), 'utf8'))).toEqual({ version: 1, shards: 4 })
    checkMeta(d, 4)
    expect(() => checkMeta(d, 2)).toThrow(/written with SHARDS=4 and this server runs SHARDS=2/)
    writeFileSync(join(d, 'meta.json'), '{oops')
    expect(() => checkMeta(d, 4)).toThrow(/not valid JSON/)
  })
})
