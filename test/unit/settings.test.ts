import { availableParallelism } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULTS, SettingsError, loadSettings, parseDuration, parseSize, usage, type Settings } from '../../src/settings.js'

/** Runs loadSettings and returns the SettingsError it throws (fails the test if it does not throw one). */
function settingsError (argv: string[], env: NodeJS.ProcessEnv = {}): SettingsError {
  try {
    loadSettings(argv, env)
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError)
    return err as SettingsError
  }
  throw new Error(`loadSettings(${JSON.stringify(argv)}, ${JSON.stringify(env)}) did not throw`)
}

describe('parseDuration', () => {
  it('reads a number and a unit into milliseconds', () => {
    expect(parseDuration('1500ms')).toBe(1500)
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('15m')).toBe(15 * 60_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('0.25s')).toBe(250)
    expect(parseDuration('0s')).toBe(0)
  })

  it('ignores case and surrounding blanks', () => {
    expect(parseDuration(' 2S ')).toBe(2000)
    expect(parseDuration('3MS')).toBe(3)
    expect(parseDuration('1H')).toBe(3_600_000)
  })

  it('rounds fractions of a millisecond', () => {
    expect(parseDuration('1.4ms')).toBe(1)
    expect(parseDuration('1.6ms')).toBe(2)
  })

  it('returns NaN for anything else', () => {
    for (const text of ['', '10', 'ms', '-5s', '+5s', '1d', '1 s', '.5s', '5.s', '1e3ms', '1h30m', 'fast', '0x10s', '5sec']) {
      expect(parseDuration(text), text).toBeNaN()
    }
  })
})

describe('parseSize', () => {
  it('reads a number and an optional binary unit into bytes', () => {
    expect(parseSize('100')).toBe(100)
    expect(parseSize('100b')).toBe(100)
    expect(parseSize('512kb')).toBe(512 * 1024)
    expect(parseSize('16mb')).toBe(16 * 1024 * 1024)
    expect(parseSize('1gb')).toBe(1024 ** 3)
    expect(parseSize('1.5kb')).toBe(1536)
    expect(parseSize(' 2KB ')).toBe(2048)
  })

  it('rounds partial bytes down', () => {
    expect(parseSize('1.9')).toBe(1)
    expect(parseSize('0.001kb')).toBe(1)
  })

  it('returns NaN for anything else', () => {
    for (const text of ['', 'kb', '-1', '1tb', '1 kb', '1k', '1m', 'big', '1e6', '.5mb']) {
      expect(parseSize(text), text).toBeNaN()
    }
  })
})

describe('loadSettings', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('uses the defaults when nothing is set', () => {
    const s = loadSettings([], {})
    expect(s).toEqual({
      port: 8000,
      host: '127.0.0.1',
      shards: availableParallelism(),
      retention: 3_600_000,
      purgeInterval: 60_000,
      maxBody: 16 * 1024 * 1024,
      futureSkew: 600_000,
      logLevel: 'info'
    } satisfies Settings)
    expect(DEFAULTS).toEqual(s)
  })

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadSettings([], {}))).toBe(true)
  })

  it('reads only the environment it is given, not process.env', () => {
    vi.stubEnv('PORT', '1234')
    vi.stubEnv('SHARDS', '3')
    const s = loadSettings([], {})
    expect(s.port).toBe(8000)
    expect(s.shards).toBe(availableParallelism())
  })

  it('treats an empty environment variable as unset', () => {
    const s = loadSettings([], { PORT: '', HOST: '', RETENTION: '' })
    expect(s.port).toBe(8000)
    expect(s.host).toBe('127.0.0.1')
    expect(s.retention).toBe(3_600_000)
  })

  it('reads every setting from the environment', () => {
    const s = loadSettings([], {
      PORT: '9001',
      HOST: '0.0.0.0',
      SHARDS: '3',
      RETENTION: '2h',
      PURGE_INTERVAL: '30s',
      MAX_BODY: '1mb',
      FUTURE_SKEW: '5m',
      LOG_LEVEL: 'debug'
    })
    expect(s).toEqual({
      port: 9001,
      host: '0.0.0.0',
      shards: 3,
      retention: 7_200_000,
      purgeInterval: 30_000,
      maxBody: 1024 * 1024,
      futureSkew: 300_000,
      logLevel: 'debug'
    })
  })

  it('reads every setting from flags, in both --flag value and --flag=value forms', () => {
    const s = loadSettings([
      '--port', '9002', '--host=::1', '--shards', '5', '--retention=90m', '--purge-interval', '1500ms',
      '--max-body=256kb', '--future-skew', '1h', '--log-level=warn'
    ], {})
    expect(s).toEqual({
      port: 9002,
      host: '::1',
      shards: 5,
      retention: 5_400_000,
      purgeInterval: 1500,
      maxBody: 256 * 1024,
      futureSkew: 3_600_000,
      logLevel: 'warn'
    })
  })

  it('lets a flag win over the environment, setting by setting', () => {
    const env = {
      PORT: '1111', HOST: 'env-host', SHARDS: '2', RETENTION: '1h', PURGE_INTERVAL: '1m',
      MAX_BODY: '1kb', FUTURE_SKEW: '1s', LOG_LEVEL: 'error'
    }
    const s = loadSettings(['--port=2222', '--shards=4', '--max-body=2kb', '--log-level=trace'], env)
    expect(s.port).toBe(2222)
    expect(s.shards).toBe(4)
    expect(s.maxBody).toBe(2048)
    expect(s.logLevel).toBe('trace')
    // The ones without a flag keep the environment's value.
    expect(s.host).toBe('env-host')
    expect(s.retention).toBe(3_600_000)
    expect(s.purgeInterval).toBe(60_000)
    expect(s.futureSkew).toBe(1000)
  })

  it('throws SettingsError for an unknown flag, naming it', () => {
    const err = settingsError(['--prot', '80'])
    expect(err.message).toContain('--prot')
    expect(err.message).toContain('--help')
  })

  it('throws SettingsError for a positional argument', () => {
    const err = settingsError(['8000'])
    expect(err.message).toContain('8000')
  })

  it('throws SettingsError when a flag has no value', () => {
    const err = settingsError(['--port'])
    expect(err.message).toContain('--port')
  })

  it('answers --help with the usage text, marked by cause', () => {
    const err = settingsError(['--help'])
    expect(err.cause).toBe('help')
    expect(err.message).toBe(usage())
    for (const name of ['--port', 'PORT', '--host', 'HOST', '--shards', 'SHARDS', '--retention', 'RETENTION',
      '--purge-interval', 'PURGE_INTERVAL', '--max-body', 'MAX_BODY', '--future-skew', 'FUTURE_SKEW', '--log-level', 'LOG_LEVEL']) {
      expect(err.message).toContain(name)
    }
  })

  // One block per setting: good edge values pass, bad values fail from either
  // source, and the message names the source and says what is accepted.
  interface Case {
    key: keyof Settings
    env: string
    flag: string
    good: Array<[string, string | number]>
    bad: string[]
    accepts: RegExp
  }
  const cases: Case[] = [
    {
      key: 'port', env: 'PORT', flag: 'port',
      good: [['0', 0], ['1', 1], ['65535', 65535], ['080', 80]],
      bad: ['65536', '-1', '80.5', 'http', ' 80', '1e3', '99999999999999999999'],
      accepts: /port number from 0 to 65535/
    },
    {
      key: 'host', env: 'HOST', flag: 'host',
      good: [['localhost', 'localhost'], ['::', '::'], ['10.0.0.1', '10.0.0.1']],
      bad: [''],
      accepts: /host name or address/
    },
    {
      key: 'shards', env: 'SHARDS', flag: 'shards',
      good: [['1', 1], ['256', 256], ['16', 16]],
      bad: ['0', '257', 'two', '2.5', '-4', ''],
      accepts: /whole number from 1 to 256/
    },
    {
      key: 'retention', env: 'RETENTION', flag: 'retention',
      good: [['1ms', 1], ['24h', 86_400_000], ['30s', 30_000]],
      bad: ['0s', '0.4ms', '3600', '1d', 'forever', '-1h', ''],
      accepts: /positive duration with a unit: ms, s, m or h/
    },
    {
      key: 'purgeInterval', env: 'PURGE_INTERVAL', flag: 'purge-interval',
      good: [['100ms', 100], ['10m', 600_000], ['596h', 596 * 3_600_000]],
      // Above 2^31 - 1 ms, Node's setInterval silently fires every millisecond instead.
      bad: ['0m', '60', '1w', '', '597h', '24856h', '99999999999999999999h'],
      accepts: /positive duration with a unit: ms, s, m or h .*at most 596h/
    },
    {
      key: 'maxBody', env: 'MAX_BODY', flag: 'max-body',
      good: [['1', 1], ['1kb', 1024], ['2gb', 2 * 1024 ** 3]],
      bad: ['0', '0kb', '1tb', 'huge', '-5mb', ''],
      accepts: /positive size in b, kb, mb or gb/
    },
    {
      key: 'futureSkew', env: 'FUTURE_SKEW', flag: 'future-skew',
      good: [['1s', 1000], ['0.5s', 500], ['48h', 172_800_000]],
      bad: ['0ms', '10', 'soon', ''],
      accepts: /positive duration with a unit: ms, s, m or h/
    },
    {
      key: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level',
      good: [['fatal', 'fatal'], ['error', 'error'], ['warn', 'warn'], ['info', 'info'], ['debug', 'debug'], ['trace', 'trace'], ['silent', 'silent']],
      bad: ['verbose', 'warning', 'INFO', ''],
      accepts: /one of fatal, error, warn, info, debug, trace, silent/
    }
  ]

  for (const c of cases) {
    describe(`${c.key} (${c.env}, --${c.flag})`, () => {
      it('accepts good values from the environment and from the flag', () => {
        for (const [raw, value] of c.good) {
          expect(loadSettings([], { [c.env]: raw })[c.key], `${c.env}=${raw}`).toBe(value)
          expect(loadSettings([`--${c.flag}=${raw}`], {})[c.key], `--${c.flag}=${raw}`).toBe(value)
        }
      })

      it('rejects bad values from the flag, naming --flag and what it accepts', () => {
        for (const raw of c.bad) {
          const err = settingsError([`--${c.flag}=${raw}`])
          expect(err.message, raw).toContain(`--${c.flag} is ${JSON.stringify(raw)}`)
          expect(err.message, raw).toMatch(c.accepts)
        }
      })

      it('rejects bad values from the environment, naming the variable and what it accepts', () => {
        // An empty variable means unset, so it is only bad as a flag.
        for (const raw of c.bad.filter((b) => b !== '')) {
          const err = settingsError([], { [c.env]: raw })
          expect(err.message, raw).toContain(`${c.env} is ${JSON.stringify(raw)}`)
          expect(err.message, raw).toMatch(c.accepts)
        }
      })
    })
  }
})
