#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { Client } from './client.js'
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js'
import { collectAttrs, collectServices, wholeNumber } from './filters.js'
import { DEFAULT_URL, OUTPUTS, resolveGlobalOptions, type GlobalOptions, type RawGlobalOptions } from './options.js'
import { entrySink } from './output.js'
import { DEFAULT_PAGE_SIZE, runQuery, type QueryOptions } from './query-command.js'
import { DEFAULT_RETRIES } from './retry.js'
import { DEFAULT_BATCH_LINES } from './batcher.js'
import { visible } from './render.js'
import { runSend, type SendOptions } from './send-command.js'
import { runTail, type TailOptions } from './tail-command.js'

// `logagg`, the command line client: query, tail and send, against a server
// at --url. The commands live in their own modules; this file declares the
// options (commander) and turns failures into a line on stderr and an exit
// code: 0 done, 1 the server refused or could not be reached (or some sent
// lines were rejected), 2 a usage mistake.

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

// Everything on stderr goes through `visible`: a message may quote what the server sent.
const warn = (message: string): void => { process.stderr.write(`logagg: ${visible(message)}\n`) }

const globals = (cmd: Command): GlobalOptions =>
  resolveGlobalOptions(cmd.optsWithGlobals<RawGlobalOptions>(), process.env, process.stdout.isTTY === true)

/** The filters query and tail share, as GET /logs takes them. */
function withFilters (cmd: Command, times: boolean): Command {
  cmd
    .option('-s, --service <names>', 'only these services (repeatable, or a comma list); default every service', collectServices)
    .option('--since <duration>', 'from this long ago: 15m, 1h30m')
    .option('--start <time>', 'from this time: ISO 8601 or relative, now-15m (wins over --since)')
  if (times) cmd.option('--end <time>', 'until this time: ISO 8601 or relative, now-5m')
  return cmd
    .option('-c, --contains <text>', 'the message contains this text (case-sensitive)')
    .option('-r, --regex <re2>', 'the message matches this RE2 regular expression')
    .option('-a, --attr <name=value>', 'the entry has this attribute or stream label (repeatable)', collectAttrs)
}

const program = new Command('logagg')
  .description('Query, tail and send logs to a logagg server.')
  .version(version)
  .addOption(new Option('--url <url>', `server address (env LOGAGG_URL, default ${DEFAULT_URL})`))
  .addOption(new Option('--token <token>', 'bearer token (env LOGAGG_TOKEN)'))
  .addOption(new Option('-o, --output <format>', 'output: text (aligned and coloured in a terminal, the server\'s text lines otherwise), json or ndjson').choices(OUTPUTS).default('text'))
  .option('--color', 'colour the text output (default: when stdout is a terminal and NO_COLOR is unset)')
  .option('--no-color', 'never colour the text output')
  .showHelpAfterError()
  .exitOverride()

withFilters(program.command('query'), true)
  .description('print stored entries in time order, page by page (json output: one JSON array)')
  .option('-n, --limit <n>', 'entries to print in all (default: every matching entry)', wholeNumber(1, 1_000_000_000))
  .option('--page-size <n>', 'entries per request', wholeNumber(1, 10_000), DEFAULT_PAGE_SIZE)
  .addOption(new Option('--order <order>', 'oldest first (asc) or newest first (desc)').choices(['asc', 'desc']))
  .action(async (o: QueryOptions, cmd: Command) => {
    const g = globals(cmd)
    await runQuery(new Client(g.url, g.token), o, entrySink(g, process.stdout, true), warn)
  })

withFilters(program.command('tail'), false)
  .description('print entries as they are stored, until Ctrl-C; --since or --start replays stored ones first (json output: NDJSON)')
  .action(async (o: TailOptions, cmd: Command) => {
    const g = globals(cmd)
    const stop = new AbortController()
    const end = (): void => { stop.abort() }
    process.once('SIGINT', end)
    process.once('SIGTERM', end)
    try {
      await runTail(new Client(g.url, g.token), o, entrySink(g, process.stdout, false), warn, stop.signal)
    } finally {
      process.off('SIGINT', end)
      process.off('SIGTERM', end)
    }
  })

program.command('send')
  .description('send stdin to the server: NDJSON entries, or plain text lines with --service; reports accepted and rejected counts on stderr')
  .option('-s, --service <name>', 'read plain text lines, one entry per line of this service, stamped with the time it is read')
  .option('--service-field <fields>', 'NDJSON: the field(s) that hold the service, a comma list (the server\'s _service_field)')
  .option('--time-field <fields>', 'NDJSON: the field(s) that hold the time (_time_field)')
  .option('--msg-field <fields>', 'NDJSON: the field(s) that hold the message (_msg_field)')
  .option('--batch-size <lines>', 'lines per request (each request also stays under about 1 MiB)', wholeNumber(1, 100_000), DEFAULT_BATCH_LINES)
  .option('--retries <n>', 'times a request refused with 429 or 503 is sent again', wholeNumber(0, 100), DEFAULT_RETRIES)
  .action(async (o: SendOptions, cmd: Command) => {
    const g = globals(cmd)
    if (o.service !== undefined && (o.serviceField !== undefined || o.timeField !== undefined || o.msgField !== undefined)) {
      throw new CliError('--service reads plain text lines; --service-field, --time-field and --msg-field are for NDJSON input. Give one or the other', EXIT_USAGE)
    }
    if (process.stdin.isTTY === true) warn('reading entries from the terminal; end with Ctrl-D')
    const report = await runSend(new Client(g.url, g.token), o, process.stdin, warn)
    if (report.rejected > 0) process.exitCode = EXIT_FAILURE
  })

// A reader that goes away (`| head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // commander printed the message (or the help) already.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE
  } else if (err instanceof CliError) {
    warn(err.message)
    process.exitCode = err.exitCode
  } else {
    warn((err as Error).stack ?? String(err))
    process.exitCode = EXIT_FAILURE
  }
}
