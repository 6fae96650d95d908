import type { Client } from './client.js'
import { CliError } from './errors.js'
import { filterParams, type FilterOptions } from './filters.js'
import { readEntries } from './ndjson-reader.js'
import type { EntrySink } from './output.js'

// `logagg tail`: GET /logs/tail as NDJSON lines, each entry written as it
// comes. With --since or --start the server first replays the stored entries
// from then on. `signal` (Ctrl-C) ends it cleanly; the server ending it
// (shutdown) is an error.

export type TailOptions = Omit<FilterOptions, 'end'>

export async function runTail (client: Client, o: TailOptions, sink: EntrySink, notice: (message: string) => void, signal: AbortSignal): Promise<void> {
  const params = filterParams(o)
  params.set('format', 'ndjson')
  try {
    const res = await client.ok('/logs/tail', params, { signal })
    await readEntries(res, sink, notice)
  } catch (err) {
    if (signal.aborted) return
    throw err
  }
  if (!signal.aborted) throw new CliError('the server ended the tail (it may be shutting down)')
}
