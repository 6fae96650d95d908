import { CliError, EXIT_USAGE } from './errors.js'

// The global options, resolved once from the command line and the
// environment: where the server is, the token, the output format, colour.
// Pure (env and TTY-ness are passed in), so each rule has a unit test.

export const OUTPUTS = ['text', 'json', 'ndjson'] as const
export type Output = typeof OUTPUTS[number]

/** The server's default address (`npm start` listens on 127.0.0.1:8000). */
export const DEFAULT_URL = 'http://127.0.0.1:8000'

export interface GlobalOptions {
  /** Base URL without a trailing slash. */
  url: string
  token: string | undefined
  output: Output
  /** ANSI colours on stdout. */
  color: boolean
  /** Text output for a person: aligned columns, control characters made visible. Otherwise the server's text lines. */
  pretty: boolean
}

export interface RawGlobalOptions {
  url?: string | undefined
  token?: string | undefined
  output?: string | undefined
  /** true for --color, false for --no-color, undefined for neither. */
  color?: boolean | undefined
}

export function resolveGlobalOptions (raw: RawGlobalOptions, env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): GlobalOptions {
  const urlText = raw.url ?? env.LOGAGG_URL ?? DEFAULT_URL
  let url: URL
  try {
    url = new URL(urlText)
  } catch {
    throw new CliError(`--url ${JSON.stringify(urlText)} is not a URL; give one such as ${DEFAULT_URL}`, EXIT_USAGE)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--url must be http:// or https://, not ${url.protocol}`, EXIT_USAGE)
  const output = raw.output ?? 'text'
  if (!(OUTPUTS as readonly string[]).includes(output)) throw new CliError(`--output must be one of ${OUTPUTS.join(', ')}`, EXIT_USAGE)
  const token = raw.token ?? env.LOGAGG_TOKEN
  // https://no-color.org: NO_COLOR set to anything but the empty string turns colour off by default.
  const color = raw.color ?? (stdoutIsTTY && (env.NO_COLOR === undefined || env.NO_COLOR === ''))
  return {
    url: url.href.replace(/\/+$/, ''),
    token: token === '' ? undefined : token,
    output: output as Output,
    color,
    pretty: output === 'text' && (color || stdoutIsTTY)
  }
}
