import { describe, expect, it } from 'vitest'
import { Batcher, textEntry } from '../../src/cli/batcher.js'
import { CliError } from '../../src/cli/errors.js'
import { collectServices, filterParams } from '../../src/cli/filters.js'
import { DEFAULT_URL, resolveGlobalOptions } from '../../src/cli/options.js'
import { MAX_RETRY_AFTER_MS, retryDelayMs } from '../../src/cli/retry.js'

// The CLI's pure parts: global options from flags and environment, query
// parameters, send batches and retry delays.

describe('resolveGlobalOptions', () => {
  it('defaults: the server\'s default address, text output, colour only in a terminal', () => {
    expect(resolveGlobalOptions({}, {}, false)).toEqual({ url: DEFAULT_URL, token: undefined, output: 'text', color: false, pretty: false })
    expect(resolveGlobalOptions({}, {}, true)).toMatchObject({ color: true, pretty: true })
  })

  it('takes the address and token from LOGAGG_URL and LOGAGG_TOKEN; flags win', () => {
    const env = { LOGAGG_URL: 'http://logs.internal:9000/', LOGAGG_TOKEN: 'from-env' }
    expect(resolveGlobalOptions({}, env, false)).toMatchObject({ url: 'http://logs.internal:9000', token: 'from-env' })
    expect(resolveGlobalOptions({ url: 'https://x.example', token: 'flag' }, env, false)).toMatchObject({ url: 'https://x.example', token: 'flag' })
  })

  it('NO_COLOR (not empty) turns colour off in a terminal, but the text stays aligned; --color forces it', () => {
    expect(resolveGlobalOptions({}, { NO_COLOR: '1' }, true)).toMatchObject({ color: false, pretty: true })
    expect(resolveGlobalOptions({}, { NO_COLOR: '' }, true)).toMatchObject({ color: true })
    expect(resolveGlobalOptions({ color: true }, { NO_COLOR: '1' }, false)).toMatchObject({ color: true, pretty: true })
    expect(resolveGlobalOptions({ color: false }, {}, true)).toMatchObject({ color: false })
  })

  it('json and ndjson are never pretty', () => {
    expect(resolveGlobalOptions({ output: 'json', color: true }, {}, true).pretty).toBe(false)
  })

  it('refuses a bad address or output as a usage error (exit 2)', () => {
    for (const raw of [{ url: 'not a url' }, { url: 'ftp://x' }, { output: 'yaml' }]) {
      expect(() => resolveGlobalOptions(raw, {}, false)).toThrow(CliError)
      try {
        resolveGlobalOptions(raw, {}, false)
      } catch (err) {
        expect((err as CliError).exitCode).toBe(2)
      }
    }
  })
})

describe('filterParams', () => {
  it('repeats service (comma lists split), passes times through, attributes as attr.<name>', () => {
    const services = collectServices('c', collectServices('a, b', undefined))
    const p = filterParams({ service: services, since: '15m', end: 'now-1m', contains: 'x', regex: 'y+', attr: ['region=eu=1'] })
    expect(p.toString()).toBe('service=a&service=b&service=c&since=15m&end=now-1m&contains=x&regex=y%2B&attr.region=eu%3D1')
  })
})

describe('Batcher', () => {
  it('cuts batches at the line count and keeps the input line numbers', () => {
    const b = new Batcher(2, 1 << 20)
    expect(b.add('{"a":1}', 1)).toBeNull()
    expect(b.add('{"a":2}', 3)).toEqual({ body: '{"a":1}\n{"a":2}\n', lineNumbers: [1, 3] })
    expect(b.add('{"a":3}', 4)).toBeNull()
    expect(b.flush()).toEqual({ body: '{"a":3}\n', lineNumbers: [4] })
    expect(b.flush()).toBeNull()
  })

  it('cuts batches before they pass the byte size; a longer line goes alone', () => {
    const b = new Batcher(1000, 20)
    expect(b.add('x'.repeat(10), 1)).toBeNull()
    expect(b.add('y'.repeat(10), 2)).toEqual({ body: `${'x'.repeat(10)}\n`, lineNumbers: [1] })
    expect(b.add('z'.repeat(30), 3)).toEqual({ body: `${'y'.repeat(10)}\n`, lineNumbers: [2] })
    expect(b.flush()).toEqual({ body: `${'z'.repeat(30)}\n`, lineNumbers: [3] })
  })

  it('counts bytes, not characters', () => {
    const b = new Batcher(1000, 10)
    expect(b.add('éééé', 1)).toBeNull() // 9 bytes with its newline
    expect(b.add('é', 2)?.lineNumbers).toEqual([1])
  })
})

describe('textEntry', () => {
  it('makes a line an entry of the service, stamped now, the line kept as it is', () => {
    const now = new Date('2026-11-27T21:50:00.123Z')
    expect(JSON.parse(textEntry('api', ' "quoted" \\ ', now))).toEqual({ service: 'api', timestamp: '2026-11-27T21:50:00.123Z', message: ' "quoted" \\ ' })
  })
})

describe('retryDelayMs', () => {
  it('honours Retry-After in seconds or as a date, else doubles from 250 ms up to 10 s', () => {
    const now = Date.parse('2026-11-27T21:50:00Z')
    expect(retryDelayMs(0, '2', now)).toBe(2000)
    expect(retryDelayMs(3, '0', now)).toBe(0)
    expect(retryDelayMs(0, 'Fri, 27 Nov 2026 21:50:05 GMT', now)).toBe(5000)
    expect(retryDelayMs(0, null, now)).toBe(250)
    expect(retryDelayMs(2, 'soon', now)).toBe(1000)
    expect(retryDelayMs(10, null, now)).toBe(10_000)
    expect(retryDelayMs(0, '86400', now)).toBe(MAX_RETRY_AFTER_MS)
  })
})
