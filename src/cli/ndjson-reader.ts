import { bodyLines } from './client.js'
import { CliError } from './errors.js'
import type { EntrySink } from './output.js'
import { oneLine, type Entry } from './render.js'

// Reads an NDJSON answer of GET /logs or GET /logs/tail: entry lines go to
// the sink as they arrive; the lines that are not entries say something about
// the stream: `{"next": cursor}` (another page), `{"dropped": n, "message"}`
// (a tail that did not keep up). Blank lines are a tail's keep-alives.

export interface ReadResult {
  entries: number
  next: string | null
}

export async function readEntries (res: Response, sink: EntrySink, notice: (message: string) => void): Promise<ReadResult> {
  let entries = 0
  let next: string | null = null
  for await (const line of bodyLines(res)) {
    if (line === '') continue
    let value: Partial<Entry> & { next?: string | null, dropped?: number, message?: string }
    try {
      value = JSON.parse(line) as typeof value
    } catch {
      throw new CliError(`the server sent a line that is not JSON (is --url a logagg server?): ${oneLine(line.slice(0, 120))}`)
    }
    if (typeof value.service === 'string') {
      entries++
      await sink.entry(line, value as Entry)
    } else if (value.next !== undefined) {
      next = value.next
    } else if (typeof value.dropped === 'number') {
      notice(typeof value.message === 'string' ? oneLine(value.message) : `${value.dropped} entries were dropped`)
    }
  }
  return { entries, next }
}
