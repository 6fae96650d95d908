import { describe, expect, it } from 'vitest'
import { MAX_MESSAGE_BYTES, MAX_SERVICE_LENGTH, checkEntry, type Window } from '../../src/ingest/entry.js'

const us = (iso: string): number => Date.parse(iso) * 1000
const NOW = us('2026-03-10T12:00:00Z')
// One hour back, ten minutes ahead.
const window: Window = { oldest: NOW - 3600e6, newest: NOW + 600e6 }
const good = { service: 'api', timestamp: '2026-03-10T11:59:00.123456Z', message: 'hello' }

const check = (value: unknown): ReturnType<typeof checkEntry> => checkEntry(value, window)

describe('checkEntry', () => {
  it('returns the clean entry with the timestamp in epoch microseconds', () => {
    expect(check(good)).toEqual({ service: 'api', ts: us('2026-03-10T11:59:00.123Z') + 456, message: 'hello', labels: null, attributes: null })
  })

  it('ignores fields it does not know', () => {
    expect(check({ ...good, level: 'info', extra: { a: 1 } })).toEqual(check(good))
  })

  it('accepts an empty message and any characters in service and message', () => {
    expect(check({ ...good, message: '' })).toMatchObject({ message: '' })
    expect(check({ ...good, service: 'ünïcødé "svc" 😀', message: '\u0000\u2028😀\ud800' }))
      .toMatchObject({ service: 'ünïcødé "svc" 😀', message: '\u0000\u2028😀\ud800' })
  })

  it('rejects a value that is not an object, saying what it got', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'null'], [[good], 'an array'], ['text', 'a string'], [42, 'a number'], [true, 'a boolean']
    ]
    for (const [value, got] of cases) {
      expect(check(value)).toBe(`each entry must be a JSON object with service, timestamp and message; got ${got}`)
    }
  })

  describe('service', () => {
    it('must be present', () => {
      expect(check({ timestamp: good.timestamp, message: 'm' })).toBe('service is missing')
    })

    it('must be a string', () => {
      expect(check({ ...good, service: 7 })).toBe('service must be a string; got a number')
      expect(check({ ...good, service: null })).toBe('service must be a string; got null')
      expect(check({ ...good, service: ['api'] })).toBe('service must be a string; got an array')
      expect(check({ ...good, service: { name: 'api' } })).toBe('service must be a string; got an object')
    })

    it('must not be empty', () => {
      expect(check({ ...good, service: '' })).toBe('service must not be empty')
    })

    it(`may be up to ${MAX_SERVICE_LENGTH} characters`, () => {
      expect(check({ ...good, service: 's'.repeat(MAX_SERVICE_LENGTH) })).toMatchObject({ service: 's'.repeat(256) })
      expect(check({ ...good, service: 's'.repeat(257) })).toBe('service is 257 characters long; the limit is 256')
    })

    it('must not hold control characters (C0, DEL, C1, ANSI escapes), naming the first', () => {
      expect(check({ ...good, service: 'api\n' })).toBe('service contains the control character U+000a at position 3; use printable characters only')
      expect(check({ ...good, service: '\u001b[31mred' })).toMatch(/U\+001b at position 0/)
      expect(check({ ...good, service: 'a\u007f' })).toMatch(/U\+007f/)
      expect(check({ ...good, service: 'a\u009bb' })).toMatch(/U\+009b/)
      expect(check({ ...good, service: '\u0000' })).toMatch(/U\+0000/)
    })

    it('must not hold lone surrogates', () => {
      expect(check({ ...good, service: 'a\ud800' })).toBe('service contains a lone surrogate (U+d800) at position 1; send valid Unicode text')
      expect(check({ ...good, service: '\udc00b' })).toMatch(/lone surrogate \(U\+dc00\) at position 0/)
      expect(check({ ...good, service: '\udbff\udfff' })).toMatchObject({ service: '\udbff\udfff' })
    })

    it('is checked before the timestamp', () => {
      expect(check({ service: '', timestamp: 'bad' })).toBe('service must not be empty')
    })
  })

  describe('timestamp', () => {
    it('must be present', () => {
      const err = check({ service: 'api', message: 'm' })
      expect(err).toMatch(/^timestamp is missing; send an ISO 8601 time such as \S+ \(no offset means UTC\)$/)
    })

    it('must be a string or a number', () => {
      for (const [value, got] of [[null, 'null'], [{}, 'an object'], [true, 'a boolean'], ['1773144000', 'x']] as Array<[unknown, string]>) {
        const err = check({ ...good, timestamp: value })
        if (typeof value === 'string') {
          expect(err).toMatch(/is not an ISO 8601 time/)
          continue
        }
        expect(err).toMatch(/^timestamp must be a string, an ISO 8601 time such as .*, or a Unix time as a number; got /)
        expect(err).toMatch(new RegExp(`; got ${got}$`))
      }
    })

    it('as a number is a Unix time in seconds, ms, µs or ns, told apart by size', () => {
      const t = us('2026-03-10T11:59:00.123456Z')
      expect(check({ ...good, timestamp: t / 1e6 })).toMatchObject({ ts: t })
      expect(check({ ...good, timestamp: Math.floor(t / 1e3) })).toMatchObject({ ts: Math.floor(t / 1e3) * 1e3 })
      expect(check({ ...good, timestamp: t })).toMatchObject({ ts: t })
      expect(check({ ...good, timestamp: t * 1e3 })).toMatchObject({ ts: t })
      expect(check({ ...good, timestamp: -1 })).toMatch(/^timestamp -1 is not a Unix time; send /)
      expect(check({ ...good, timestamp: 1_700_000_000 })).toMatch(/^timestamp 1700000000 \(2023-11-14T22:13:20.000000Z\) is older than the retention window/)
    })

    it('without a zone, outside the window, says it was read as UTC, how far from now, and the likely offset', () => {
      const now = Date.now()
      const at = (ms: number): string => new Date(now + ms).toISOString().slice(0, 19)
      const local = { oldest: now * 1000 - 3600e6, newest: now * 1000 + 600e6 }
      // datetime.now().isoformat() at +02:00 and at -05:30, read as UTC.
      expect(checkEntry({ ...good, timestamp: at(2 * 3600e3) }, local)).toBe(
        `timestamp ${at(2 * 3600e3)} has no zone and was read as UTC: 2 h 0 min in the future (more than FUTURE_SKEW); add Z or an offset such as +02:00`
      )
      expect(checkEntry({ ...good, timestamp: at(-5.5 * 3600e3) }, local)).toBe(
        `timestamp ${at(-5.5 * 3600e3)} has no zone and was read as UTC: 5 h 30 min in the past (older than RETENTION); add Z or an offset such as -05:30`
      )
      expect(checkEntry({ ...good, timestamp: at(-30 * 86400e3).slice(0, 10) }, local)).toMatch(/has no zone and was read as UTC: 3\d d \d+ h in the past \(older than RETENTION\); add Z or an offset such as \+02:00$/)
      // With a zone, the message stays as it was.
      expect(checkEntry({ ...good, timestamp: `${at(2 * 3600e3)}Z` }, local)).toMatch(/is too far in the future; entries after/)
    })

    it('a number past any date is refused with itself quoted, and the next message is still right (1e308 threw in the shard, then left the day cache empty)', () => {
      expect(check({ ...good, timestamp: 1e308 })).toMatch(/^timestamp 1e\+308, past any date, is too far in the future; entries after \d{4}-\d\d-\d\dT[\d:.]+Z are not accepted/)
      expect(check({ ...good, timestamp: -1e308 })).toMatch(/^timestamp -1e\+308 is not a Unix time; send an ISO 8601 time/)
      expect(check({ ...good, timestamp: 4102444800 })).toMatch(/^timestamp 4102444800 \(2100-01-01T00:00:00\.000000Z\) is too far in the future/)
    })

    it('must parse, and the message quotes it (cut to 64 characters)', () => {
      expect(check({ ...good, timestamp: '2026-02-30T10:00:00Z' }))
        .toBe('timestamp "2026-02-30T10:00:00Z" is not an ISO 8601 time such as 2026-11-27T21:50:00.123456Z (no offset means UTC)')
      const long = check({ ...good, timestamp: '9'.repeat(1000) }) as string
      expect(long).toContain(`"${'9'.repeat(64)}"`)
      expect(long).not.toContain('9'.repeat(65))
      expect(check({ ...good, timestamp: 'a "quoted" one' })).toContain('"a \\"quoted\\" one"')
    })

    it('must not be older than the window, whose edge is included', () => {
      const edge = '2026-03-10T11:00:00Z'
      expect(us(edge)).toBe(window.oldest)
      expect(check({ ...good, timestamp: edge })).toMatchObject({ ts: window.oldest })
      expect(check({ ...good, timestamp: '2026-03-10T10:59:59.999999Z' })).toBe(
        'timestamp 2026-03-10T10:59:59.999999Z is older than the retention window; entries before 2026-03-10T11:00:00.000000Z are not accepted'
      )
    })

    it('must not be further in the future than the window, whose edge is included', () => {
      const edge = '2026-03-10T12:10:00Z'
      expect(us(edge)).toBe(window.newest)
      expect(check({ ...good, timestamp: edge })).toMatchObject({ ts: window.newest })
      expect(check({ ...good, timestamp: '2026-03-10T12:10:00.000001Z' })).toBe(
        "timestamp 2026-03-10T12:10:00.000001Z is too far in the future; entries after 2026-03-10T12:10:00.000000Z are not accepted (check the sender's clock)"
      )
    })

    it('is compared as an instant, whatever its offset', () => {
      // 12:05 UTC written at +02:00 is inside; 12:15 UTC written at -05:00 is not.
      expect(check({ ...good, timestamp: '2026-03-10T14:05:00+02:00' })).toMatchObject({ ts: us('2026-03-10T12:05:00Z') })
      expect(check({ ...good, timestamp: '2026-03-10T07:15:00-05:00' })).toMatch(/too far in the future/)
    })
  })

  describe('message', () => {
    it('must be present', () => {
      expect(check({ service: 'api', timestamp: good.timestamp })).toBe('message is missing')
    })

    it('must be a string', () => {
      expect(check({ ...good, message: 12 })).toBe('message must be a string; got a number')
      expect(check({ ...good, message: null })).toBe('message must be a string; got null')
      expect(check({ ...good, message: ['a'] })).toBe('message must be a string; got an array')
      expect(check({ ...good, message: { text: 'a' } })).toBe('message must be a string; got an object')
    })

    it(`may be up to ${MAX_MESSAGE_BYTES / 1024} KiB of UTF-8`, () => {
      expect(MAX_MESSAGE_BYTES).toBe(262_144)
      const tooLarge = 'message is larger than 256 KiB; split it or shorten it'
      expect(check({ ...good, message: 'a'.repeat(MAX_MESSAGE_BYTES) })).toMatchObject({ message: 'a'.repeat(MAX_MESSAGE_BYTES) })
      expect(check({ ...good, message: 'a'.repeat(MAX_MESSAGE_BYTES + 1) })).toBe(tooLarge)
      // Counted in bytes, not characters: 'é' is 2 bytes, '€' 3, '😀' 4 (two UTF-16 units).
      expect(check({ ...good, message: 'é'.repeat(MAX_MESSAGE_BYTES / 2) })).toMatchObject({ service: 'api' })
      expect(check({ ...good, message: 'é'.repeat(MAX_MESSAGE_BYTES / 2) + 'a' })).toBe(tooLarge)
      expect(check({ ...good, message: '€'.repeat(87_381) + 'a' })).toMatchObject({ service: 'api' }) // 262 144 bytes
      expect(check({ ...good, message: '€'.repeat(87_381) + 'ab' })).toBe(tooLarge)
      expect(check({ ...good, message: '😀'.repeat(MAX_MESSAGE_BYTES / 4) })).toMatchObject({ service: 'api' })
      expect(check({ ...good, message: '😀'.repeat(MAX_MESSAGE_BYTES / 4) + 'a' })).toBe(tooLarge)
    })
  })
})

describe('attributes', () => {
  it('keeps strings, and numbers and booleans as their JSON text, as flat pairs', () => {
    expect(check({ ...good, attributes: { region: 'eu', code: 500, ok: false, ratio: 0.5 } })).toMatchObject({ attributes: ['region', 'eu', 'code', '500', 'ok', 'false', 'ratio', '0.5'] })
    expect(check({ ...good, attributes: {} })).toMatchObject({ attributes: null })
    expect(check({ ...good, attributes: null })).toMatchObject({ attributes: null })
  })

  it('refuses other values, naming the key', () => {
    expect(check({ ...good, attributes: { nested: { a: 1 } } })).toBe('attribute "nested" must be a string, number or boolean; got an object')
    expect(check({ ...good, attributes: { list: [1] } })).toMatch(/"list" must be a string.*an array/)
    expect(check({ ...good, attributes: 'x' })).toMatch(/attributes must be an object/)
    expect(check({ ...good, attributes: [] })).toMatch(/attributes must be an object/)
  })

  it('enforces the limits: 64 keys, keys of 128 characters, values of 8 KiB', () => {
    const keys = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']))
    expect(check({ ...good, attributes: keys(64) })).not.toBeTypeOf('string')
    expect(check({ ...good, attributes: keys(65) })).toMatch(/more than 64 keys/)
    expect(check({ ...good, attributes: { ['k'.repeat(128)]: 'v' } })).not.toBeTypeOf('string')
    expect(check({ ...good, attributes: { ['k'.repeat(129)]: 'v' } })).toMatch(/129 characters long; the limit is 128/)
    expect(check({ ...good, attributes: { big: 'v'.repeat(8192) } })).not.toBeTypeOf('string')
    expect(check({ ...good, attributes: { big: 'v'.repeat(8193) } })).toMatch(/"big" is larger than 8 KiB/)
    expect(check({ ...good, attributes: { '': 'v' } })).toMatch(/empty key/)
  })
})
