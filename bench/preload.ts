import { corpusBody } from './corpus.js'
import { SERVICES, SERVICE_COUNT, TimestampWriter, entryLine, makeMessage, nowUs, prng } from './data.js'

// Fills a server with a known layout of entries over HTTP (NDJSON batches, the
// same path a real client uses), and builds query paths whose time ranges hold
// a chosen number of entries. The layout is deterministic: entry k of N has
// timestamp start + k·span/N and a service drawn from a seeded PRNG, so the
// expected count in any range is known without asking the server.

export interface StoreLayout {
  entries: number
  /** Epoch µs of the oldest entry. */
  startUs: number
  spanUs: number
  seed: number
  /** 'bench': ~80-byte one-line messages; 'realistic': bench/corpus.ts (nginx, JSON, stack traces). */
  corpus: 'bench' | 'realistic'
  /** Send the realistic corpus's `attributes` objects (ignored for the bench corpus). */
  attributes: boolean
}

export interface PreloadResult {
  entries: number
  seconds: number
  entriesPerSec: number
  /** UTF-8 bytes of the messages sent, per entry. */
  messageBytesPerEntry: number
}

/** How far back the oldest preloaded entry lies, and where the newest stops (inside the default 1 h retention). */
const OLDEST_MIN = 45
const NEWEST_MIN = 2
const BATCH = 1000
const CONCURRENCY = 3
const BATCH_TIMEOUT_MS = 60_000

export function planLayout (entries: number, seed = 42, corpus: StoreLayout['corpus'] = 'bench', attributes = true): StoreLayout {
  const now = nowUs()
  return { entries, startUs: now - OLDEST_MIN * 60e6, spanUs: (OLDEST_MIN - NEWEST_MIN) * 60e6, seed, corpus, attributes }
}

const MESSAGES = (() => {
  const rand = prng(7)
  return Array.from({ length: 509 }, () => makeMessage(rand))
})()

function batchText (layout: StoreLayout, b: number, writer: TimestampWriter): { text: string, count: number, messageBytes: number } {
  const seed = layout.seed * 1_000_003 + b
  const first = b * BATCH
  const last = Math.min(layout.entries, first + BATCH)
  if (layout.corpus === 'realistic') {
    const startUs = layout.startUs + Math.floor((first * layout.spanUs) / layout.entries)
    return corpusBody(last - first, { seed, startUs, spacingUs: layout.spanUs / layout.entries, attributes: layout.attributes }, writer)
  }
  const rand = prng(seed)
  const lines: string[] = []
  for (let k = first; k < last; k++) {
    const ts = layout.startUs + Math.floor((k * layout.spanUs) / layout.entries)
    lines.push(entryLine(SERVICES[Math.floor(rand() * SERVICE_COUNT)]!, writer.format(ts), MESSAGES[k % MESSAGES.length]!))
  }
  return { text: lines.join('\n') + '\n', count: last - first, messageBytes: (last - first) * MESSAGES[0]!.length }
}

async function send (url: string, text: string, count: number): Promise<void> {
  const res = await fetch(`${url}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: text,
    signal: AbortSignal.timeout(BATCH_TIMEOUT_MS)
  })
  const body = await res.text()
  if (res.status !== 201) throw new Error(`preload batch answered ${res.status}: ${body.slice(0, 300)}`)
  const stored = (JSON.parse(body) as { stored?: unknown }).stored
  if (stored !== count) throw new Error(`preload batch of ${count} answered stored=${String(stored)}`)
}

/** POSTs every entry of `layout` in time order, a few batches in flight. */
export async function preload (url: string, layout: StoreLayout): Promise<PreloadResult> {
  const batches = Math.ceil(layout.entries / BATCH)
  const started = performance.now()
  let messageBytes = 0
  const worker = async (w: number): Promise<void> => {
    const writer = new TimestampWriter()
    for (let b = w; b < batches; b += CONCURRENCY) {
      const batch = batchText(layout, b, writer)
      messageBytes += batch.messageBytes
      await send(url, batch.text, batch.count)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)))
  const seconds = (performance.now() - started) / 1000
  return { entries: layout.entries, seconds, entriesPerSec: layout.entries / seconds, messageBytesPerEntry: messageBytes / layout.entries }
}

export interface RangeOptions {
  /** One service per query, or every service merged. */
  oneService: boolean
  /** Entries expected in each range; a little above `limit`, so pages come back full. */
  expected: number
  limit: number
  count: number
  seed: number
  /** Leave out `end`: page forward from `start` to the end of the window ("everything since T"). */
  openEnded?: boolean
}

/** GET /logs paths over random ranges of `layout` that each hold about `expected` entries. */
export function rangePaths (layout: StoreLayout, opts: RangeOptions): string[] {
  const rand = prng(opts.seed)
  const writer = new TimestampWriter()
  const density = layout.entries / layout.spanUs / (opts.oneService ? SERVICE_COUNT : 1)
  const length = Math.min(layout.spanUs, opts.expected / density)
  return Array.from({ length: opts.count }, () => {
    const start = layout.startUs + Math.floor(rand() * (layout.spanUs - length))
    const service = opts.oneService ? `service=${SERVICES[Math.floor(rand() * SERVICE_COUNT)]!}&` : ''
    const end = opts.openEnded === true ? '' : `&end=${writer.format(start + length)}`
    return `/logs?${service}start=${writer.format(start)}${end}&limit=${opts.limit}`
  })
}

export interface ProbeResult {
  mean: number
  min: number
  max: number
}

/** Asks each of the first `max` paths once and counts the entries returned. */
export async function probeCounts (url: string, paths: readonly string[], max = 16): Promise<ProbeResult> {
  const counts: number[] = []
  for (const path of paths.slice(0, max)) {
    const res = await fetch(url + path, { signal: AbortSignal.timeout(BATCH_TIMEOUT_MS) })
    const body = await res.text()
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${body.slice(0, 300)}`)
    counts.push((JSON.parse(body) as { logs: unknown[] }).logs.length)
  }
  return { mean: counts.reduce((a, b) => a + b, 0) / counts.length, min: Math.min(...counts), max: Math.max(...counts) }
}
