// Groups input lines into POST /logs bodies: NDJSON, at most `maxLines`
// lines and about `maxBytes` bytes each (a single longer line goes alone).
// Each batch remembers the input line number of each of its lines, so an
// entry the server rejects (by index in the batch) is reported by its line.

export interface Batch {
  body: string
  /** 1-based input line numbers, one per line of the body. */
  lineNumbers: number[]
}

export const DEFAULT_BATCH_LINES = 1000
export const DEFAULT_BATCH_BYTES = 1024 * 1024

export class Batcher {
  private lines: string[] = []
  private numbers: number[] = []
  private bytes = 0

  constructor (private readonly maxLines = DEFAULT_BATCH_LINES, private readonly maxBytes = DEFAULT_BATCH_BYTES) {}

  /** Adds an NDJSON line (no newline); returns the batch it completes, if any. */
  add (line: string, lineNumber: number): Batch | null {
    const size = Buffer.byteLength(line) + 1
    const full = this.lines.length > 0 && this.bytes + size > this.maxBytes ? this.take() : null
    this.lines.push(line)
    this.numbers.push(lineNumber)
    this.bytes += size
    if (full !== null) return full
    return this.lines.length >= this.maxLines || this.bytes >= this.maxBytes ? this.take() : null
  }

  /** What is left, at the end of the input. */
  flush (): Batch | null {
    return this.lines.length === 0 ? null : this.take()
  }

  private take (): Batch {
    const batch = { body: this.lines.join('\n') + '\n', lineNumbers: this.numbers }
    this.lines = []
    this.numbers = []
    this.bytes = 0
    return batch
  }
}

/** A plain text line as an entry of `service`, stamped `now`. */
export function textEntry (service: string, line: string, now: Date): string {
  return JSON.stringify({ service, timestamp: now.toISOString(), message: line })
}
