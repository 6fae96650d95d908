import { monitorEventLoopDelay } from 'node:perf_hooks'
import { pino } from 'pino'
import { startServer } from './server.js'
import { SettingsError, loadSettings, loggableSettings } from './settings/settings.js'
import { StartError } from './start-error.js'

let settings
try {
  settings = loadSettings(process.argv.slice(2), process.env)
} catch (err) {
  if (!(err instanceof SettingsError)) throw err
  if (err.cause === 'help') {
    console.log(err.message)
    process.exit(0)
  }
  console.error(`logagg: ${err.message}`)
  process.exit(2)
}

// The log goes to stdout without ever waiting on it: a reader that is gone (EPIPE: pino stops
// writing) or stuck (a full pipe) held up every request with a synchronous destination and,
// with the async one, the exit (its last flush retries EAGAIN forever). Lines wait in memory
// up to LOG_BACKLOG bytes, then new ones are dropped; the exit waits LOG_FLUSH_MS at most.
const LOG_BACKLOG = 16 * 1024 * 1024
const LOG_FLUSH_MS = 1000
// minLength 1 writes each line at once, as 0 would, but makes flush(cb) wait for the write in
// flight (with 0, sonic-boom calls it back at once, and the exit cut off the last lines).
const out = pino.destination({ fd: 1, sync: false, minLength: 1, maxLength: LOG_BACKLOG })
const log = pino({ level: settings.logLevel, base: { pid: process.pid } }, out)

/** Flushes the log for LOG_FLUSH_MS at most, then exits without the exit-time flush that could spin. */
function exit (code: number): void {
  const done = (): void => {
    out.flushSync = () => {}
    process.exit(code)
  }
  setTimeout(done, LOG_FLUSH_MS).unref()
  try {
    out.flush(done)
  } catch {
    done()
  }
}

try {
  const server = await startServer(settings, log)
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping: finishing requests in flight')
    server.close().then(
      () => {
        log.info('stopped')
        exit(0)
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping')
        exit(1)
      }
    )
  }
  // `kill -USR2 <pid>` logs how long the front thread's event loop was held
  // up since the last such signal (max, p99, mean), then starts over.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  loopDelay.enable()
  process.on('SIGUSR2', () => {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100
    log.info({ eventLoopDelay: { maxMs: ms(loopDelay.max), p99Ms: ms(loopDelay.percentile(99)), meanMs: ms(loopDelay.mean) } }, 'event loop delay')
    loopDelay.reset()
  })
  // SIGHUP reads TOKENS_FILE and LIMITS_FILE again (they are also watched for changes).
  process.on('SIGHUP', () => server.reload())
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  // Only now: whoever waits for this line may signal us at once.
  log.info({ url: server.url, settings: loggableSettings(settings) }, 'listening')
} catch (err) {
  // A known cause is one line that says what to change; anything else keeps its stack in the log.
  if (!(err instanceof StartError)) log.fatal({ err }, 'could not start')
  console.error(`logagg: ${err instanceof StartError ? err.message : `could not start: ${(err as Error).message}`}`)
  process.exit(1)
}
