import { availableParallelism } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULTS, SettingsError, loadSettings, usage, type Settings } from '../../src/settings/settings.js'
import { parseDuration, parseSize } from '../../src/core/durations.js'

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
    expect(parseDuration('7d')).toBe(7 * 86_400_000)
    expect(parseDuration('2w')).toBe(14 * 86_400_000)
    expect(parseDuration('1D')).toBe(86_400_000)
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
    for (const text of ['', '10', 'ms', '-5s', '+5s', '1y', '1 s', '.5s', '5.s', '1e3ms', '1h30m', 'fast', '0x10s', '5sec']) {
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
    expect(s).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      shards: availableParallelism(),
      retention: 3_600_000,
      purgeInterval: 60_000,
      maxBody: 16 * 1024 * 1024,
      futureSkew: 600_000,
      logLevel: 'info'
    })
    expect(s).toEqual(DEFAULTS)
  })

  it('leaves syslog off unless a port is set, listening on HOST unless SYSLOG_HOST says otherwise', () => {
    const s = loadSettings([], {})
    expect([s.syslogTcpPort, s.syslogUdpPort, s.syslogHost]).toEqual([-1, -1, ''])
    expect([s.syslogMaxConnections, s.syslogIdleTimeout]).toEqual([1000, 86_400_000])
    expect(usage()).toMatch(/--syslog-tcp-port +SYSLOG_TCP_PORT .*\(default unset\)/)
  })

  it('keeps everything in memory unless DATA_DIR is set; with it, FSYNC=batch and MAX_DISK from the free space', () => {
    const s = loadSettings([], {})
    expect([s.dataDir, s.fsync, s.maxDisk]).toEqual(['', 'batch', -1])
    expect(usage()).toMatch(/--max-disk +MAX_DISK .*80% of the free space at start.*\(default unset\)/)
  })

  it('seals blocks with brotli-1s unless BLOCK_CODEC says otherwise', () => {
    expect(loadSettings([], {}).blockCodec).toBe('brotli-1s')
    expect(loadSettings([], { BLOCK_CODEC: 'brotli-4s' }).blockCodec).toBe('brotli-4s')
    expect(usage()).toMatch(/--block-codec +BLOCK_CODEC .*none, brotli-1, deflate-1, lz4, brotli-1s, brotli-4s.*\(default brotli-1s\)/)
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
    expect(s).toMatchObject({
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
    expect(s).toMatchObject({
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
      PORT: '1111',
      HOST: 'env-host',
      SHARDS: '2',
      RETENTION: '1h',
      PURGE_INTERVAL: '1m',
      MAX_BODY: '1kb',
      FUTURE_SKEW: '1s',
      LOG_LEVEL: 'error'
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
    expect(err.message).toMatch(/^Usage: /)
  })

  // One block per setting: good edge values pass, bad values fail from either
  // source, and the message names the source and says what is accepted.
  interface Case {
    key: keyof Settings
    env: string
    flag: string
    good: Array<[string, string | number | boolean]>
    bad: string[]
    accepts: RegExp
    /** False for tokens: the message must not repeat the value. */
    echo: boolean
  }
  const setting = (
    key: keyof Settings, env: string, flag: string, good: Array<[string, string | number | boolean]>, bad: string[], accepts: RegExp, echo = true
  ): Case => ({ key, env, flag, good, bad, accepts, echo })

  const DURATION = /positive duration with a unit: ms, s, m, h, d or w/
  // Above 2^31 - 1 ms, Node's timers silently fire after 1 ms instead.
  const TIMER = /positive duration with a unit: ms, s, m, h, d or w .*at most 596h/
  const TIMER_GOOD: Array<[string, number]> = [['100ms', 100], ['10m', 600_000], ['596h', 596 * 3_600_000], ['24d', 24 * 86_400_000]]
  const TIMER_BAD = ['0m', '60', '4w', '', '597h', '25d', '24856h', '99999999999999999999h']
  const TOKEN = /is not a usable token: expected at least 16 printable ASCII characters without spaces/
  const TOKEN_GOOD: Array<[string, string]> = [['abcdefghijklmnop', 'abcdefghijklmnop'], ['!"#$%&\'()*+,-./~{}', '!"#$%&\'()*+,-./~{}']]
  const TOKEN_BAD = ['fifteen-chars-x', 'has a space inside it', 'tab\tinside-the-token', 'ünïcödé-token-0123456']

  const cases: Case[] = [
    setting('port', 'PORT', 'port', [['0', 0], ['1', 1], ['65535', 65535], ['080', 80]],
      ['65536', '-1', '80.5', 'http', ' 80', '1e3', '99999999999999999999'], /port number from 0 to 65535/),
    setting('host', 'HOST', 'host', [['localhost', 'localhost'], ['::', '::'], ['10.0.0.1', '10.0.0.1']],
      [''], /host name or address/),
    setting('shards', 'SHARDS', 'shards', [['1', 1], ['256', 256], ['16', 16]],
      ['0', '257', 'two', '2.5', '-4', ''], /whole number from 1 to 256/),
    setting('retention', 'RETENTION', 'retention', [['1ms', 1], ['24h', 86_400_000], ['30s', 30_000], ['1000h', 3_600_000_000], ['7d', 7 * 86_400_000], ['2w', 14 * 86_400_000], ['1.5d', 129_600_000]],
      ['0s', '0.4ms', '3600', '1y', '7days', 'forever', '-1h', ''], DURATION),
    setting('purgeInterval', 'PURGE_INTERVAL', 'purge-interval', TIMER_GOOD, TIMER_BAD, TIMER),
    setting('maxBody', 'MAX_BODY', 'max-body', [['1', 1], ['1kb', 1024], ['2gb', 2 * 1024 ** 3]],
      ['0', '0kb', '1tb', 'huge', '-5mb', ''], /positive size in b, kb, mb or gb/),
    setting('futureSkew', 'FUTURE_SKEW', 'future-skew', [['1s', 1000], ['0.5s', 500], ['48h', 172_800_000]],
      ['0ms', '10', 'soon', ''], DURATION),
    setting('logLevel', 'LOG_LEVEL', 'log-level',
      [['fatal', 'fatal'], ['error', 'error'], ['warn', 'warn'], ['info', 'info'], ['debug', 'debug'], ['trace', 'trace'], ['silent', 'silent']],
      ['verbose', 'warning', 'INFO', ''], /one of fatal, error, warn, info, debug, trace, silent/),
    setting('queueLimit', 'QUEUE_LIMIT', 'queue-limit', [['1', 1], ['5000', 5000], ['1000000000', 1e9]],
      ['0', '1000000001', '1.5', 'many', ''], /whole number from 1 to 1000000000/),
    setting('maxEntries', 'MAX_ENTRIES', 'max-entries', [['1', 1], ['1000000000000', 1e12]],
      ['0', '1000000000001', '-3', '1e6', ''], /whole number from 1 to 1000000000000/),
    setting('maxMemory', 'MAX_MEMORY', 'max-memory', [['1', 1], ['512mb', 512 * 1024 ** 2], ['8gb', 8 * 1024 ** 3]],
      ['0', '1tb', 'lots', ''], /positive size in b, kb, mb or gb/),
    setting('queryTimeout', 'QUERY_TIMEOUT', 'query-timeout', TIMER_GOOD, TIMER_BAD, TIMER),
    setting('queryMaxScan', 'QUERY_MAX_SCAN', 'query-max-scan', [['1', 1], ['1000000000000', 1e12]],
      ['0', '1000000000001', 'all', ''], /whole number from 1 to 1000000000000/),
    setting('maxQuerySeries', 'MAX_QUERY_SERIES', 'max-query-series', [['1', 1], ['500', 500], ['1000000', 1_000_000]],
      ['0', '1000001', '2.5', 'all', ''], /whole number from 1 to 1000000/),
    setting('maxQuerySamples', 'MAX_QUERY_SAMPLES', 'max-query-samples', [['1', 1], ['1000000', 1_000_000], ['1000000000', 1e9]],
      ['0', '1000000001', '1e6', 'all', ''], /whole number from 1 to 1000000000/),
    // At most the default REQUEST_TIMEOUT (60s): a longer one is refused (see below).
    setting('headersTimeout', 'HEADERS_TIMEOUT', 'headers-timeout', [['100ms', 100], ['30s', 30_000], ['60s', 60_000]], TIMER_BAD, TIMER),
    setting('requestTimeout', 'REQUEST_TIMEOUT', 'request-timeout', TIMER_GOOD, TIMER_BAD, TIMER),
    setting('keepAliveTimeout', 'KEEP_ALIVE_TIMEOUT', 'keep-alive-timeout', TIMER_GOOD, TIMER_BAD, TIMER),
    setting('authToken', 'AUTH_TOKEN', 'auth-token', TOKEN_GOOD, TOKEN_BAD, TOKEN, false),
    setting('ingestToken', 'INGEST_TOKEN', 'ingest-token', TOKEN_GOOD, TOKEN_BAD, TOKEN, false),
    setting('queryToken', 'QUERY_TOKEN', 'query-token', TOKEN_GOOD, TOKEN_BAD, TOKEN, false),
    setting('metricsToken', 'METRICS_TOKEN', 'metrics-token', TOKEN_GOOD, TOKEN_BAD, TOKEN, false),
    setting('corsOrigin', 'CORS_ORIGIN', 'cors-origin', [['*', '*'], ['https://example.com', 'https://example.com'], ['http://localhost:3000', 'http://localhost:3000']],
      ['example.com', 'https://example.com/', 'https://example.com/app', 'ftp://example.com', 'https://exa mple.com', '**'], /\* or an origin such as https:\/\/example\.com/),
    setting('allowedHosts', 'ALLOWED_HOSTS', 'allowed-hosts', [['*', '*'], ['logs.example.com', 'logs.example.com'], ['A.example, 10.0.0.5,[fd00::1]', 'a.example,10.0.0.5,[fd00::1]']],
      ['', 'a b', 'a,,b', 'http://x', ',', 'host:80'], /\* or a comma-separated list of host names/),
    setting('writeTimeout', 'WRITE_TIMEOUT', 'write-timeout', TIMER_GOOD, TIMER_BAD, TIMER),
    setting('maxServices', 'MAX_SERVICES', 'max-services', [['1', 1], ['100000', 100_000], ['1000000000', 1e9]],
      ['0', '1000000001', '1.5', 'many', ''], /whole number from 1 to 1000000000/),
    setting('maxPageBytes', 'MAX_PAGE_BYTES', 'max-page-bytes', [['64kb', 65_536], ['16mb', 16 * 1024 ** 2]],
      ['0', '1tb', 'big', ''], /positive size in b, kb, mb or gb/),
    setting('queryConcurrency', 'QUERY_CONCURRENCY', 'query-concurrency', [['1', 1], ['8', 8], ['16', 16]],
      ['0', '17', '2.5', 'all', ''], /whole number from 1 to 16/),
    setting('tailBufferBytes', 'TAIL_BUFFER_BYTES', 'tail-buffer-bytes', [['1', 1], ['64kb', 65_536], ['1mb', 1024 ** 2]],
      ['0', '1tb', 'plenty', ''], /positive size in b, kb, mb or gb/),
    setting('tailShardBytes', 'TAIL_SHARD_BYTES', 'tail-shard-bytes', [['256kb', 262_144], ['32mb', 32 * 1024 ** 2]],
      ['0', '-1mb', 'all', ''], /positive size in b, kb, mb or gb/),
    setting('maxTails', 'MAX_TAILS', 'max-tails', [['1', 1], ['100', 100], ['100000', 100_000]],
      ['0', '100001', '2.5', 'many', ''], /whole number from 1 to 100000/),
    setting('serviceLabels', 'SERVICE_LABELS', 'service-labels', [['app', 'app'], ['service, job ,k8s_app', 'service,job,k8s_app'], ['_x', '_x']],
      ['', 'app,', 'service.name', '1app', 'a b', 'app,,job'], /comma-separated list of label names/),
    setting('syslogTcpPort', 'SYSLOG_TCP_PORT', 'syslog-tcp-port', [['0', 0], ['514', 514], ['65535', 65535]],
      ['65536', '-1', 'syslog', ''], /port number from 0 to 65535/),
    setting('syslogUdpPort', 'SYSLOG_UDP_PORT', 'syslog-udp-port', [['0', 0], ['514', 514], ['65535', 65535]],
      ['65536', '-1', '5.14', ''], /port number from 0 to 65535/),
    setting('syslogHost', 'SYSLOG_HOST', 'syslog-host', [['0.0.0.0', '0.0.0.0'], ['::1', '::1']],
      [''], /host name or address/),
    setting('syslogMaxConnections', 'SYSLOG_MAX_CONNECTIONS', 'syslog-max-connections', [['1', 1], ['1000', 1000], ['1000000', 1_000_000]],
      ['0', '1000001', '-1', '10.5', 'many', ''], /whole number from 1 to 1000000/),
    setting('syslogIdleTimeout', 'SYSLOG_IDLE_TIMEOUT', 'syslog-idle-timeout', [...TIMER_GOOD, ['1d', 86_400_000]], TIMER_BAD, TIMER),
    setting('dataDir', 'DATA_DIR', 'data-dir', [['/var/lib/logagg', '/var/lib/logagg'], ['data', 'data'], ['./a b', './a b']],
      ['', '  ', 'a\0b'], /a folder path/),
    setting('fsync', 'FSYNC', 'fsync', [['batch', 'batch'], ['off', 'off'], ['interval:1s', 'interval:1000ms'], ['Interval:250ms', 'interval:250ms'], ['interval:1h', 'interval:3600000ms']],
      ['', 'always', 'interval', 'interval:', 'interval:0s', 'interval:2h', 'interval:5', 'sync'], /batch, off, or interval:<duration> from 1ms to 1h/),
    setting('maxDisk', 'MAX_DISK', 'max-disk', [['1', 1], ['512mb', 512 * 1024 ** 2], ['500gb', 500 * 1024 ** 3]],
      ['0', '1tb', 'most', ''], /positive size in b, kb, mb or gb/),
    setting('checkpointInterval', 'CHECKPOINT_INTERVAL', 'checkpoint-interval', TIMER_GOOD, TIMER_BAD, TIMER),
    setting('hotWindow', 'HOT_WINDOW', 'hot-window', [['1s', 1000], ['15m', 900_000], ['24h', 86_400_000]],
      ['0s', '15', 'warm', ''], DURATION),
    setting('blockCodec', 'BLOCK_CODEC', 'block-codec', [['brotli-1', 'brotli-1'], ['deflate-1', 'deflate-1'], ['none', 'none']],
      ['', 'brotli', 'BROTLI-1', 'gzip', 'zstd-3'], /one of none, brotli-1, deflate-1/),
    setting('accessLog', 'ACCESS_LOG', 'access-log', [['on', true], ['off', false], ['true', true], ['0', false], ['YES', true]],
      ['', 'maybe', 'enabled', '2'], /on or off/),
    setting('natsUrl', 'NATS_URL', 'nats-url', [['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'], ['nats://a:1, nats://b.example:4222', 'nats://a:1,nats://b.example:4222'], ['nats://nats', 'nats://nats']],
      ['', '127.0.0.1:4222', 'http://x:1', 'nats://', 'nats://a:1,', 'nats://a b:1', 'nats://a:1/x'], /comma-separated list of NATS servers/),
    setting('clusterName', 'CLUSTER_NAME', 'cluster-name', [['logagg', 'logagg'], ['prod_eu-1', 'prod_eu-1']],
      ['', 'a.b', 'a b', 'x*', 'a>', 'x'.repeat(33)], /1 to 32 letters, digits, _ or -/),
    setting('clusterPartitions', 'CLUSTER_PARTITIONS', 'cluster-partitions', [['1', 1], ['32', 32], ['1024', 1024]],
      ['0', '1025', '2.5', 'many', ''], /whole number from 1 to 1024/),
    setting('natsReplicas', 'NATS_REPLICAS', 'nats-replicas', [['1', 1], ['3', 3], ['5', 5]],
      ['0', '6', '-1', 'all', ''], /whole number from 1 to 5/),
    setting('clusterLeaseTimeout', 'CLUSTER_LEASE_TIMEOUT', 'cluster-lease-timeout', [...TIMER_GOOD, ['500ms', 500]], TIMER_BAD, TIMER),
    setting('clusterMaxBytes', 'CLUSTER_MAX_BYTES', 'cluster-max-bytes', [['64mb', 64 * 1024 ** 2], ['1gb', 1024 ** 3]],
      ['0', 'lots', ''], /positive size in b, kb, mb or gb/)
  ]

  describe('cluster mode (NATS_URL)', () => {
    it('is off unless NATS_URL is set, with CLUSTER_NAME logagg, 32 partitions and a 5 s lease', () => {
      const s = loadSettings([], {})
      expect([s.natsUrl, s.clusterName, s.clusterPartitions, s.clusterLeaseTimeout]).toEqual(['', 'logagg', 32, 5000])
    })

    it('keeps 3 replicas, or one per NATS_URL server when fewer are listed, unless NATS_REPLICAS is given', () => {
      expect(loadSettings([], { NATS_URL: 'nats://a:1' }).natsReplicas).toBe(1)
      expect(loadSettings([], { NATS_URL: 'nats://a:1,nats://b:1' }).natsReplicas).toBe(2)
      expect(loadSettings([], { NATS_URL: 'nats://a:1,nats://b:1,nats://c:1,nats://d:1' }).natsReplicas).toBe(3)
      expect(loadSettings([], { NATS_URL: 'nats://a:1', NATS_REPLICAS: '3' }).natsReplicas).toBe(3)
    })
  })

  describe('SHARD_NICE', () => {
    it('is 5 unless given, takes 0 to 19 and refuses the rest', () => {
      expect(DEFAULTS.shardNice).toBe(5)
      expect(loadSettings([], { SHARD_NICE: '0' }).shardNice).toBe(0)
      expect(loadSettings(['--shard-nice', '19'], {}).shardNice).toBe(19)
      expect(settingsError([], { SHARD_NICE: '20' }).message).toMatch(/SHARD_NICE is "20": expected a whole number from 0 to 19/)
      expect(settingsError([], { SHARD_NICE: '-1' }).message).toMatch(/SHARD_NICE is "-1"/)
    })
  })

  describe('HEADERS_TIMEOUT and REQUEST_TIMEOUT', () => {
    it('lowers the default HEADERS_TIMEOUT to a shorter REQUEST_TIMEOUT (node:http refuses headers longer than the request)', () => {
      const s = loadSettings([], { REQUEST_TIMEOUT: '5s' })
      expect(s.requestTimeout).toBe(5000)
      expect(s.headersTimeout).toBe(5000)
      expect(DEFAULTS.headersTimeout).toBe(10_000)
      expect(loadSettings(['--request-timeout', '20s'], {}).headersTimeout).toBe(10_000)
    })

    it('refuses a HEADERS_TIMEOUT given longer than REQUEST_TIMEOUT, naming both', () => {
      expect(settingsError([], { HEADERS_TIMEOUT: '10s', REQUEST_TIMEOUT: '5s' }).message)
        .toBe('HEADERS_TIMEOUT (10000ms) is longer than REQUEST_TIMEOUT (5000ms): the headers are part of the request; make it at most the request timeout')
      expect(settingsError(['--headers-timeout', '2m'], {}).message).toMatch(/^--headers-timeout \(120000ms\) is longer than REQUEST_TIMEOUT \(60000ms\)/)
    })
  })

  for (const c of cases) {
    describe(`${c.key} (${c.env}, --${c.flag})`, () => {
      it('is listed in the usage text with its variable', () => {
        expect(usage()).toMatch(new RegExp(`^ +--${c.flag} +${c.env} +\\S`, 'm'))
      })

      it('accepts good values from the environment and from the flag', () => {
        for (const [raw, value] of c.good) {
          expect(loadSettings([], { [c.env]: raw })[c.key], `${c.env}=${raw}`).toBe(value)
          expect(loadSettings([`--${c.flag}=${raw}`], {})[c.key], `--${c.flag}=${raw}`).toBe(value)
        }
      })

      it('rejects bad values from the flag, naming --flag and what it accepts', () => {
        for (const raw of c.bad) {
          const err = settingsError([`--${c.flag}=${raw}`])
          if (c.echo) expect(err.message, raw).toContain(`--${c.flag} is ${JSON.stringify(raw)}`)
          else expect(err.message, raw).not.toContain(raw)
          expect(err.message, raw).toContain(`--${c.flag} `)
          expect(err.message, raw).toMatch(c.accepts)
        }
      })

      it('rejects bad values from the environment, naming the variable and what it accepts', () => {
        // An empty variable means unset, so it is only bad as a flag.
        for (const raw of c.bad.filter((b) => b !== '')) {
          const err = settingsError([], { [c.env]: raw })
          if (c.echo) expect(err.message, raw).toContain(`${c.env} is ${JSON.stringify(raw)}`)
          else expect(err.message, raw).not.toContain(raw)
          expect(err.message, raw).toMatch(new RegExp(`^${c.env} `))
          expect(err.message, raw).toMatch(c.accepts)
        }
      })
    })
  }
})
