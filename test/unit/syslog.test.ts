import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bsdTime, parseSyslog } from '../../src/ingest/formats/syslog.js'
import { cutUtf8 } from '../../src/ingest/record.js'

const ARRIVAL = Date.UTC(2026, 10, 28, 12, 0, 0) * 1000
const parse = (frame: string, arrival = ARRIVAL): ReturnType<typeof parseSyslog> => parseSyslog(frame, arrival)
const at = (iso: string): number => Date.parse(iso) * 1000

describe('RFC 5424', () => {
  it('reads the RFC\'s examples: header fields, nil values, the BOM, fractions and offsets', () => {
    expect(parse('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff\'su root\' failed for lonvick on /dev/pts/8')).toEqual({
      service: 'su',
      ts: at('2003-10-11T22:14:15.003Z'),
      message: '\'su root\' failed for lonvick on /dev/pts/8',
      labels: null,
      attributes: ['severity', 'crit', 'facility', 'auth', 'hostname', 'mymachine.example.com', 'msgid', 'ID47'],
      truncated: false
    })
    expect(parse('<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time to make the do-nuts.\n')).toMatchObject({
      service: 'myproc',
      ts: at('2003-08-24T12:14:15.000Z') + 3,
      message: '%% It\'s time to make the do-nuts.',
      attributes: ['severity', 'notice', 'facility', 'local4', 'hostname', '192.0.2.1', 'procid', '8710']
    })
  })

  it('turns structured data into sd.<id>.<param> attributes, with its escapes', () => {
    const r = parse('<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"][ex@1 q="a \\"b\\" c\\] \\\\ \\d"] An event')
    expect(r.service).toBe('evntslog')
    expect(r.message).toBe('An event')
    expect(r.attributes).toEqual(['severity', 'notice', 'facility', 'local4', 'hostname', 'host', 'msgid', 'ID47',
      'sd.exampleSDID@32473.iut', '3', 'sd.exampleSDID@32473.eventSource', 'Application', 'sd.ex@1.q', 'a "b" c] \\ \\d'])
    // Structured data and no message at all.
    expect(parse('<14>1 2026-11-28T11:00:00Z h app - - [x@1 k="v"]')).toMatchObject({ message: '', attributes: expect.arrayContaining(['sd.x@1.k', 'v']) })
  })

  it('uses the arrival time for a nil timestamp and service syslog for a nil app name', () => {
    expect(parse('<14>1 - - - - - - hello')).toMatchObject({ service: 'syslog', ts: ARRIVAL, message: 'hello', attributes: ['severity', 'info', 'facility', 'user'] })
  })

  it('keeps a message whose header or structured data does not parse whole, as service syslog at arrival', () => {
    for (const frame of [
      '<14>1 yesterday host app - - - msg',
      '<14>1 2026-11-28T11:00:00Z host app - - [broken k="v" msg',
      '<14>1 2026-11-28T11:00:00Z host app - - [x k=v] msg',
      '<14>1 2026-11-28T11:00:00Z host',
      '<14>1 2026-11-28T11:00:00Z host app - - -garbage'
    ]) {
      expect(parse(frame), frame).toEqual({ service: 'syslog', ts: ARRIVAL, message: frame, labels: null, attributes: null, truncated: false })
    }
  })
})

describe('RFC 3164', () => {
  let tz: string | undefined
  beforeEach(() => { tz = process.env.TZ })
  afterEach(() => {
    if (tz === undefined) delete process.env.TZ
    else process.env.TZ = tz
  })

  it('reads time, hostname, tag and pid, in the receiver\'s time zone', () => {
    process.env.TZ = 'America/New_York'
    expect(parse('<34>Oct 11 22:14:15 mymachine su: \'su root\' failed for lonvick on /dev/pts/8')).toEqual({
      service: 'su',
      ts: at('2026-10-12T02:14:15Z'),
      message: '\'su root\' failed for lonvick on /dev/pts/8',
      labels: null,
      attributes: ['severity', 'crit', 'facility', 'auth', 'hostname', 'mymachine'],
      truncated: false
    })
    process.env.TZ = 'UTC'
    expect(parse('<13>Nov  5 01:02:03 sshd[4242]: Accepted publickey\n')).toMatchObject({
      service: 'sshd', ts: at('2026-11-05T01:02:03Z'), message: 'Accepted publickey', attributes: ['severity', 'notice', 'facility', 'user', 'procid', '4242']
    })
    expect(parse('<86>Nov 28 10:00:00 web-1.example.com postfix/smtpd[77]:message without a space')).toMatchObject({ service: 'postfix/smtpd', message: 'message without a space' })
  })

  it('infers the year as rsyslog does around new year', () => {
    process.env.TZ = 'UTC'
    const january = new Date(Date.UTC(2027, 0, 1, 0, 5))
    const december = new Date(Date.UTC(2026, 11, 31, 23, 55))
    expect(bsdTime('Dec 31 23:59:58', january)).toBe(at('2026-12-31T23:59:58Z'))
    expect(bsdTime('Jan  1 00:00:01', december)).toBe(at('2027-01-01T00:00:01Z'))
    expect(bsdTime('Jun 15 12:00:00', december)).toBe(at('2026-06-15T12:00:00Z'))
    expect(bsdTime('Feb 30 12:00:00', december)).toBeNaN()
    expect(bsdTime('Foo 10 12:00:00', december)).toBeNaN()
  })

  it('reads rsyslog\'s forwarding format (an RFC 3339 time in a 3164 header)', () => {
    expect(parse('<30>2026-11-28T11:59:58.123456+01:00 host1 myapp[9]: started')).toMatchObject({
      service: 'myapp', ts: at('2026-11-28T10:59:58.123Z') + 456, message: 'started', attributes: ['severity', 'info', 'facility', 'daemon', 'hostname', 'host1', 'procid', '9']
    })
  })

  it('keeps text without a priority, a timestamp or a tag whole', () => {
    for (const frame of ['plain text line', '<999>Nov 28 10:00:00 h t: m', '<13>Nov 28 10:00 x: m', '<13>2026-13-01 x: m', '<13>lonely', '<13>[x] m', '']) {
      expect(parse(frame), frame).toMatchObject({ service: 'syslog', ts: ARRIVAL, message: frame, attributes: null })
    }
  })

  it('reads a message without a timestamp as rsyslog does: no host, the tag right after the PRI (Python\'s SysLogHandler)', () => {
    // Formatter '%(name)s: %(message)s'; ident 'myapp ' or 'myapp: '; a tag with a pid.
    expect(parse('<14>billing.jobs: invoice 42 sent')).toEqual({
      service: 'billing.jobs', ts: ARRIVAL, message: 'invoice 42 sent', labels: null, attributes: ['severity', 'info', 'facility', 'user'], truncated: false
    })
    expect(parse('<11>myapp something failed')).toMatchObject({ service: 'myapp', ts: ARRIVAL, message: 'something failed', attributes: ['severity', 'err', 'facility', 'user'] })
    expect(parse('<14>myapp: hello: world')).toMatchObject({ service: 'myapp', message: 'hello: world' })
    expect(parse('<30>worker[77]: up')).toMatchObject({ service: 'worker', message: 'up', attributes: ['severity', 'info', 'facility', 'daemon', 'procid', '77'] })
  })
})

describe('limits', () => {
  it('cuts a message over 256 KiB on a character boundary and says so', () => {
    const r = parse(`<14>1 - h app - - - ${'é'.repeat(200_000)}`)
    expect(Buffer.byteLength(r.message)).toBe(256 * 1024)
    expect(r.message).toBe('é'.repeat(128 * 1024))
    expect(r.truncated).toBe(true)
    expect(cutUtf8('a€b', 3)).toBe('a')
    expect(cutUtf8('abc', 3)).toBe('abc')
  })

  it('keeps at most 64 attributes (the last says some were left out) and the first of repeated params', () => {
    const params = Array.from({ length: 80 }, (_, i) => `p${i}="${i}"`).join(' ')
    const r = parse(`<14>1 - h app - - [x@1 ${params} p0="again"] m`)
    expect(r.attributes!.length).toBe(128)
    expect(r.attributes!.slice(4, 6)).toEqual(['hostname', 'h'])
    expect(r.attributes!.slice(6, 8)).toEqual(['sd.x@1.p0', '0'])
    expect(r.attributes!.slice(-2)).toEqual(['_truncated', 'attributes'])
    expect(r.truncated).toBe(true)
  })
})
