import { once } from 'node:events'
import type { Writable } from 'node:stream'
import pc from 'picocolors'
import type { GlobalOptions } from './options.js'
import { PrettyPrinter, plainLine, type Entry } from './render.js'

// Where entries go: stdout, in the format --output chose, written with
// backpressure (a query piped into a slow reader waits for it instead of
// buffering every page in memory).

export interface EntrySink {
  /** One entry: its NDJSON line as the server sent it, and that line parsed. */
  entry: (line: string, e: Entry) => Promise<void>
  /** After the last entry. */
  end: () => Promise<void>
}

/** Writes `text`, waiting for 'drain' when the stream has enough buffered. */
export async function write (out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain')
}

/**
 * A sink for the chosen output. `array`: json output as one JSON array (a
 * query, which ends); a tail never ends, so its json output is NDJSON.
 */
export function entrySink (g: GlobalOptions, out: Writable, array: boolean): EntrySink {
  const done = async (): Promise<void> => {}
  if (g.output === 'ndjson' || (g.output === 'json' && !array)) {
    return { entry: async (line) => { await write(out, `${line}\n`) }, end: done }
  }
  if (g.output === 'json') {
    let first = true
    return {
      entry: async (line) => {
        await write(out, `${first ? '[\n' : ',\n'}${line}`)
        first = false
      },
      end: async () => { await write(out, first ? '[]\n' : '\n]\n') }
    }
  }
  if (g.pretty) {
    const printer = new PrettyPrinter(pc.createColors(g.color))
    return { entry: async (_line, e) => { await write(out, `${printer.format(e)}\n`) }, end: done }
  }
  return { entry: async (_line, e) => { await write(out, `${plainLine(e)}\n`) }, end: done }
}
