import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { PreloadResult, StoreLayout } from '../preload.js'
import { DIST, track, type Fixture } from '../server-fixture.js'
import type { InProcessMemory, ServerRss } from '../types.js'

// Memory per stored entry, two ways:
// (1) in-process: bench/memory-probe.ts in its own `node --expose-gc` process
//     (heapUsed and RSS growth after gc(), and how long purge() blocks);
// (2) the running server: VmRSS of the child process before and after the
//     preload of the query scenarios, read from /proc/<pid>/status, once on
//     the bench corpus (~80-byte messages) and once on the realistic corpus
//     (bench/corpus.ts, ~196 bytes), with its ratio to the message bytes.

const PROBE = join(DIST, 'bench/memory-probe.js')
/** The probe needs about 10 s per million entries; anything far beyond is a hang. */
const PROBE_TIMEOUT_MS = 240_000

export async function inProcessMemory (entries: number): Promise<InProcessMemory> {
  const child = spawn(process.execPath, ['--expose-gc', PROBE, String(entries)], { stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-2000) })
  const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS)
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (c) => resolve(c))
    })
    if (code !== 0) throw new Error(`memory probe exited with ${code ?? 'a signal (timeout?)'}: ${stderr.trim()}`)
    const last = stdout.trim().split('\n').pop() ?? ''
    return JSON.parse(last) as InProcessMemory
  } finally {
    clearTimeout(timer)
    child.kill('SIGKILL')
  }
}

/**
 * Measures the RSS growth of `fixture` across `fill` (a preload of `layout`),
 * reading RSS again `settleMs` after it so work in flight is done.
 */
export async function serverRss (fixture: Fixture, layout: StoreLayout, settleMs: number, fill: () => Promise<PreloadResult>): Promise<ServerRss> {
  const rssBeforeBytes = fixture.rssBytes()
  const loaded = await fill()
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  const rssAfterBytes = fixture.rssBytes()
  const perEntry = rssBeforeBytes === null || rssAfterBytes === null ? null : (rssAfterBytes - rssBeforeBytes) / layout.entries
  return {
    target: fixture.name,
    corpus: layout.corpus,
    attributes: layout.corpus === 'realistic' && layout.attributes,
    entries: layout.entries,
    rssBeforeBytes,
    rssAfterBytes,
    perEntry,
    messageBytesPerEntry: loaded.messageBytesPerEntry,
    ratio: perEntry === null ? null : perEntry / loaded.messageBytesPerEntry,
    preloadSeconds: loaded.seconds
  }
}
