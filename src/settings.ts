import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'

// Every setting can come from an environment variable or from the flag of the
// same name (the flag wins). Values are checked once, here; a bad one stops
// the program at start with one line that names the setting.

export interface Settings {
  readonly port: number
  readonly host: string
  readonly shards: number
  /** How long entries are kept, in ms. */
  readonly retention: number
  /** How often each shard drops expired entries, in ms. */
  readonly purgeInterval: number
  /** Largest accepted request body, in bytes. */
  readonly maxBody: number
  /** How far in the future a timestamp may be, in ms. */
  readonly futureSkew: number
  readonly logLevel: string
}

export const DEFAULTS: Readonly<Settings> = Object.freeze({
  port: 8000,
  host: '127.0.0.1',
  shards: availableParallelism(),
  retention: 3_600_000,
  purgeInterval: 60_000,
  maxBody: 16 * 1024 * 1024,
  futureSkew: 600_000,
  logLevel: 'info'
})

export class SettingsError extends Error {
  override name = 'SettingsError'
}

type Kind = 'port' | 'host' | 'count' | 'duration' | 'size' | 'level'

interface Spec { key: keyof Settings, env: string, flag: string, kind: Kind, help: string, max?: number }

// Above 2^31 - 1 ms (about 596 hours) Node's setInterval warns and fires every millisecond instead.
const MAX_TIMER_MS = 2 ** 31 - 1

const SPECS: readonly Spec[] = [
  { key: 'port', env: 'PORT', flag: 'port', kind: 'port', help: 'TCP port to listen on, 0 to 65535 (0 picks a free one)' },
  { key: 'host', env: 'HOST', flag: 'host', kind: 'host', help: 'address to listen on' },
  { key: 'shards', env: 'SHARDS', flag: 'shards', kind: 'count', help: 'number of shard worker threads, 1 to 256' },
  { key: 'retention', env: 'RETENTION', flag: 'retention', kind: 'duration', help: 'how long entries are kept' },
  { key: 'purgeInterval', env: 'PURGE_INTERVAL', flag: 'purge-interval', kind: 'duration', max: MAX_TIMER_MS, help: 'how often expired entries are dropped' },
  { key: 'maxBody', env: 'MAX_BODY', flag: 'max-body', kind: 'size', help: 'largest request body accepted' },
  { key: 'futureSkew', env: 'FUTURE_SKEW', flag: 'future-skew', kind: 'duration', help: 'how far in the future a timestamp may be' },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level', kind: 'level', help: 'server log level: fatal, error, warn, info, debug, trace or silent' }
]

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }
const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

/** Parses `1500ms`, `90s`, `15m`, `1h` (a decimal number and a unit) into ms; NaN if it is not one. */
export function parseDuration (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim().toLowerCase())
  if (m === null) return NaN
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!)
}

/** Parses `512kb`, `16mb`, `1gb` or a plain byte count into bytes; NaN if it is not one. */
export function parseSize (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(b|kb|mb|gb)?$/.exec(text.trim().toLowerCase())
  if (m === null) return NaN
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2] ?? 'b']!)
}

function convert (spec: Spec, raw: string, origin: string): string | number {
  const bad = (accepts: string): never => {
    throw new SettingsError(`${origin} is ${JSON.stringify(raw)}: expected ${accepts}`)
  }
  switch (spec.kind) {
    case 'port': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN
      return n >= 0 && n <= 65535 ? n : bad('a port number from 0 to 65535')
    }
    case 'count': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN
      return n >= 1 && n <= 256 ? n : bad('a whole number from 1 to 256')
    }
    case 'duration': {
      const ms = parseDuration(raw)
      const max = spec.max ?? Infinity
      return ms > 0 && ms <= max ? ms : bad(`a positive duration with a unit: ms, s, m or h (e.g. 1500ms, 90s, 15m, 1h)${max < Infinity ? ', at most 596h' : ''}`)
    }
    case 'size': {
      const bytes = parseSize(raw)
      return bytes > 0 ? bytes : bad('a positive size in b, kb, mb or gb (e.g. 512kb, 16mb)')
    }
    case 'level':
      return LEVELS.has(raw) ? raw : bad('one of fatal, error, warn, info, debug, trace, silent')
    case 'host':
      return raw.length > 0 ? raw : bad('a host name or address')
  }
}

/** Reads settings from `env` and then `argv` (flags win). Throws SettingsError on a bad value. */
export function loadSettings (argv: readonly string[], env: NodeJS.ProcessEnv): Settings {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } }
  for (const spec of SPECS) options[spec.flag] = { type: 'string' }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new SettingsError(`${(err as Error).message.split('\n').map((l) => l.trim()).join(' ').replace(/\.$/, '')}. Run with --help to list the settings`)
  }
  if (values.help === true) throw new SettingsError(usage(), { cause: 'help' })

  const out: Record<string, string | number> = { ...DEFAULTS }
  for (const spec of SPECS) {
    const fromEnv = env[spec.env]
    if (fromEnv !== undefined && fromEnv !== '') out[spec.key] = convert(spec, fromEnv, spec.env)
    const fromFlag = values[spec.flag]
    if (typeof fromFlag === 'string') out[spec.key] = convert(spec, fromFlag, `--${spec.flag}`)
  }
  return Object.freeze(out) as unknown as Settings
}

function showDefault (spec: Spec): string {
  const value = DEFAULTS[spec.key]
  if (typeof value !== 'number') return value
  if (spec.kind === 'duration') {
    for (const unit of ['h', 'm', 's'] as const) if (value % DURATION_UNITS[unit]! === 0) return `${value / DURATION_UNITS[unit]!}${unit}`
    return `${value}ms`
  }
  if (spec.kind === 'size') {
    for (const unit of ['gb', 'mb', 'kb'] as const) if (value % SIZE_UNITS[unit]! === 0) return `${value / SIZE_UNITS[unit]!}${unit}`
  }
  return String(value)
}

export function usage (): string {
  const lines = ['Usage: npm start -- [--flag value ...]   (each flag also reads the environment variable shown)', '']
  for (const spec of SPECS) {
    lines.push(`  --${spec.flag.padEnd(15)} ${spec.env.padEnd(15)} ${spec.help} (default ${showDefault(spec)})`)
  }
  return lines.join('\n')
}
