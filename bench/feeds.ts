import type autocannon from 'autocannon'
import { SERVICES, TS_WIDTH, TimestampWriter, entryLine, makeMessage, nowUs, prng } from './data.js'

// Request bodies for the ingest scenarios, built once before a run. Each body
// keeps the byte offsets of its timestamps; just before a request is sent the
// feed rewrites them relative to the current time (a 27-byte write per entry),
// so every entry is "now" without the load generator formatting JSON.

const PLACEHOLDER = '0'.repeat(TS_WIDTH)

/** Spacing between consecutive in-order entries of one batch. */
const SPACING_US = 1

export interface TemplateEntry {
  service: string
  message: string
  /** Added to the send time to give the entry's timestamp (≤ 0). */
  offsetUs: number
}

/** A pre-built body whose timestamps are rewritten on every send. */
export class StampedBody {
  readonly buf: Buffer
  readonly entries: number
  private readonly at: Uint32Array
  private readonly offsets: Float64Array

  /** `format` writes one entry's text (one line, or more joined by newlines) around the timestamp placeholder. */
  constructor (entries: readonly TemplateEntry[], ndjson: boolean, format: (e: TemplateEntry, ts: string) => string = (e, ts) => entryLine(e.service, ts, e.message)) {
    if (entries.length === 0 || (!ndjson && entries.length !== 1)) throw new Error('a single-entry body holds exactly one entry')
    this.entries = entries.length
    this.at = new Uint32Array(entries.length)
    this.offsets = Float64Array.from(entries, (e) => e.offsetUs)
    const lines: string[] = []
    let pos = 0
    entries.forEach((e, i) => {
      const line = format(e, PLACEHOLDER)
      this.at[i] = pos + line.indexOf(PLACEHOLDER)
      lines.push(line)
      pos += line.length + 1
    })
    // All ASCII, so string offsets are byte offsets.
    this.buf = Buffer.from(ndjson ? lines.join('\n') + '\n' : lines[0]!, 'latin1')
  }

  stamp (baseUs: number, writer: TimestampWriter): Buffer {
    for (let i = 0; i < this.entries; i++) writer.write(this.buf, this.at[i]!, baseUs + this.offsets[i]!)
    return this.buf
  }
}

/** Hands out the pool's bodies round-robin, each freshly stamped. */
export class IngestFeed {
  private i = 0
  private readonly writer = new TimestampWriter()

  constructor (private readonly bodies: readonly StampedBody[], readonly contentType: string, private readonly path = '/logs') {}

  /** Entries in each body. */
  get entriesPerBody (): number { return this.bodies[0]!.entries }

  next (): Buffer {
    const body = this.bodies[this.i++ % this.bodies.length]!
    return body.stamp(nowUs(), this.writer)
  }

  /** An autocannon request that POSTs the next body each time it is sent. */
  request (): autocannon.Request {
    return {
      method: 'POST',
      path: this.path,
      headers: { 'content-type': this.contentType },
      setupRequest: (req) => {
        req.body = this.next()
        return req
      }
    }
  }
}

/** `count` single-entry JSON bodies over the 50 services. */
export function singleEntryFeed (count: number, seed: number): IngestFeed {
  const rand = prng(seed)
  const bodies = Array.from({ length: count }, () => new StampedBody([{
    service: SERVICES[Math.floor(rand() * SERVICES.length)]!,
    message: makeMessage(rand),
    offsetUs: 0
  }], false))
  return new IngestFeed(bodies, 'application/json')
}

/**
 * The entries of `count` batches of `size` over the 50 services. Entries run
 * in time order except a `lateFraction` share, stamped up to `maxLateMs` in
 * the past. The NDJSON and push-protocol feeds encode these same entries.
 */
export function batchTemplates (count: number, size: number, seed: number, lateFraction = 0.05, maxLateMs = 2000): TemplateEntry[][] {
  const rand = prng(seed)
  return Array.from({ length: count }, () => {
    const entries: TemplateEntry[] = []
    for (let i = 0; i < size; i++) {
      let offsetUs = -(size - 1 - i) * SPACING_US
      if (rand() < lateFraction) offsetUs -= 1000 + Math.floor(rand() * maxLateMs * 1000)
      entries.push({ service: SERVICES[Math.floor(rand() * SERVICES.length)]!, message: makeMessage(rand), offsetUs })
    }
    return entries
  })
}

/** `count` NDJSON bodies of `size` entries over the 50 services (see batchTemplates). */
export function batchFeed (count: number, size: number, seed: number, lateFraction = 0.05, maxLateMs = 2000): IngestFeed {
  return new IngestFeed(batchTemplates(count, size, seed, lateFraction, maxLateMs).map((entries) => new StampedBody(entries, true)), 'application/x-ndjson')
}

/** Elasticsearch bulk bodies (`create` actions) of the given batches, documents as Filebeat shapes them. */
export function bulkFeed (batches: readonly TemplateEntry[][]): IngestFeed {
  const format = (e: TemplateEntry, ts: string): string => `{"create":{}}\n{"@timestamp":"${ts}","service":"${e.service}","message":"${e.message}"}`
  return new IngestFeed(batches.map((entries) => new StampedBody(entries, true, format)), 'application/x-ndjson', '/_bulk')
}

/** An autocannon GET request that walks `paths` round-robin across all connections. */
export function pathRequest (paths: readonly string[]): autocannon.Request {
  let i = 0
  return {
    method: 'GET',
    setupRequest: (req) => {
      req.path = paths[i++ % paths.length]!
      return req
    }
  }
}
