import { describe, expect, it } from 'vitest'
import { encodeCursor } from '../../src/shards/cursor.js'
import { BadQueryError } from '../../src/core/errors.js'
import { DEFAULT_LIMIT, MAX_LIMIT, parseLogsQuery, type QueryDefaults } from '../../src/http/query-params.js'

const defaults: QueryDefaults = { start: 1_000_000, end: 9_000_000 }
const us = (iso: string): number => Date.parse(iso) * 1000

/** The BadQueryError parseLogsQuery throws for `raw`. */
function rejection (raw: Record<string, unknown>): Error & { code: string, statusCode: number } {
  try {
    parseLogsQuery(raw, defaults)
  } catch (err) {
    expect(err).toBeInstanceOf(BadQueryError)
    return err as Error & { code: string, statusCode: number }
  }
  throw new Error(`parseLogsQuery(${JSON.stringify(raw)}) did not throw`)
}

describe('parseLogsQuery', () => {
  it('fills in the defaults', () => {
    expect(parseLogsQuery({}, defaults)).toEqual({
      services: null,
      start: defaults.start,
      end: defaults.end,
      descending: false,
      limit: DEFAULT_LIMIT,
      after: null,
      contains: null,
      attrs: [],
      regex: null
    })
    expect(DEFAULT_LIMIT).toBe(1000)
    expect(MAX_LIMIT).toBe(10_000)
  })

  it('treats empty start, end, cursor and contains as absent', () => {
    expect(parseLogsQuery({ start: '', end: '', cursor: '', contains: '' }, defaults)).toEqual(parseLogsQuery({}, defaults))
  })

  it('reads start and end as ISO 8601 times', () => {
    const q = parseLogsQuery({ start: '2026-03-10T10:00:00Z', end: '2026-03-10T12:00:00.5+01:00' }, defaults)
    expect(q.start).toBe(us('2026-03-10T10:00:00Z'))
    expect(q.end).toBe(us('2026-03-10T11:00:00.500Z'))
  })

  it('accepts start equal to end', () => {
    const q = parseLogsQuery({ start: '2026-03-10T10:00:00Z', end: '2026-03-10T10:00:00Z' }, defaults)
    expect(q.end).toBe(q.start)
  })

  it('rejects an unreadable time, naming the parameter and an example', () => {
    for (const name of ['start', 'end']) {
      const err = rejection({ [name]: 'yesterday' })
      expect(err.message).toContain(`${name} "yesterday" is not an ISO 8601 time`)
      expect(err.message).toMatch(/such as \d{4}-\d\d-\d\dT/)
      expect(err.statusCode).toBe(400)
      expect(err.code).toBe('LOGAGG_ERR_BAD_QUERY')
    }
    // Impossible dates are unreadable too.
    expect(rejection({ start: '2026-02-30T00:00:00Z' }).message).toContain('start')
    // A long value is cut in the message.
    const long = rejection({ end: 'x'.repeat(5000) })
    expect(long.message).toContain('x'.repeat(64))
    expect(long.message).not.toContain('x'.repeat(65))
  })

  it('rejects end before start', () => {
    const err = rejection({ start: '2026-03-10T10:00:00Z', end: '2026-03-10T09:59:59.999999Z' })
    expect(err.message).toMatch(/end is before start/)
    // Also when only one side is given and the other default is beyond it.
    expect(rejection({ start: '2100-01-01' }).message).toMatch(/end is before start/)
  })

  it('reads one service or several', () => {
    expect(parseLogsQuery({ service: 'api' }, defaults).services).toEqual(['api'])
    expect(parseLogsQuery({ service: ['api', 'db'] }, defaults).services).toEqual(['api', 'db'])
    expect(parseLogsQuery({ service: ['a b', 'ü/x?&'] }, defaults).services).toEqual(['a b', 'ü/x?&'])
  })

  it('rejects an empty service name, alone or among others', () => {
    for (const service of ['', ['api', ''], ['', '']]) {
      expect(rejection({ service }).message).toMatch(/service must not be empty/)
    }
  })

  it('rejects a service name no entry may have: control characters, lone surrogates', () => {
    expect(rejection({ service: 'api\u001b[0m' }).message).toMatch(/control character U\+001b/)
    expect(rejection({ service: ['api', 'x\ud800'] }).message).toMatch(/lone surrogate/)
    expect(rejection({ service: 'x'.repeat(300) }).message).toMatch(/limit is 256/)
  })

  it('reads limit from 1 to MAX_LIMIT', () => {
    expect(parseLogsQuery({ limit: '1' }, defaults).limit).toBe(1)
    expect(parseLogsQuery({ limit: '250' }, defaults).limit).toBe(250)
    expect(parseLogsQuery({ limit: '10000' }, defaults).limit).toBe(10_000)
    expect(parseLogsQuery({ limit: '007' }, defaults).limit).toBe(7)
  })

  it('rejects a bad limit', () => {
    for (const limit of ['0', '10001', 'abc', '1.5', '-1', '', ' 5', '1e3', '0x10', '99999999999999999999', 'Infinity']) {
      expect(rejection({ limit }).message, limit).toBe('limit must be a whole number from 1 to 10000')
    }
  })

  it('reads order asc or desc', () => {
    expect(parseLogsQuery({ order: 'asc' }, defaults).descending).toBe(false)
    expect(parseLogsQuery({ order: 'desc' }, defaults).descending).toBe(true)
  })

  it('rejects any other order', () => {
    for (const order of ['ascending', 'DESC', '', 'up', 'desc ']) {
      expect(rejection({ order }).message, order).toBe('order must be asc or desc')
    }
  })

  it('reads a cursor issued for the same order', () => {
    const asc = encodeCursor({ after: { ts: 1234, seq: 56 }, descending: false })
    expect(parseLogsQuery({ cursor: asc }, defaults).after).toEqual({ ts: 1234, seq: 56 })
    const desc = encodeCursor({ after: { ts: 99, seq: 7 }, descending: true })
    expect(parseLogsQuery({ cursor: desc, order: 'desc' }, defaults).after).toEqual({ ts: 99, seq: 7 })
  })

  it('rejects a cursor issued for the other order', () => {
    const desc = encodeCursor({ after: { ts: 1, seq: 1 }, descending: true })
    expect(rejection({ cursor: desc }).message).toMatch(/cursor was issued for order=desc/)
    expect(rejection({ cursor: desc, order: 'asc' }).message).toMatch(/order=desc/)
    const asc = encodeCursor({ after: { ts: 1, seq: 1 }, descending: false })
    expect(rejection({ cursor: asc, order: 'desc' }).message).toMatch(/cursor was issued for order=asc/)
  })

  it('rejects a cursor it did not issue', () => {
    for (const cursor of ['garbage', 'djE6YToxOjE=', Buffer.from('v1:a:1:x').toString('base64url')]) {
      expect(rejection({ cursor }).message, cursor).toMatch(/cursor is not one this server issued/)
    }
  })

  it('passes contains through, up to 1024 characters', () => {
    expect(parseLogsQuery({ contains: 'timeout' }, defaults).contains).toBe('timeout')
    expect(parseLogsQuery({ contains: ' ' }, defaults).contains).toBe(' ')
    expect(parseLogsQuery({ contains: 'x'.repeat(1024) }, defaults).contains).toBe('x'.repeat(1024))
    expect(rejection({ contains: 'x'.repeat(1025) }).message).toBe('contains is longer than 1024 characters')
  })

  it('rejects an unknown parameter, naming it and listing the known ones', () => {
    const err = rejection({ service: 'api', serivce: 'api' })
    expect(err.message).toContain('unknown parameter "serivce"')
    expect(err.message).toContain('service, start, end, limit, order, cursor, contains')
    expect(rejection({ ['k'.repeat(500)]: '1' }).message).not.toContain('k'.repeat(65))
  })

  it('rejects a parameter given twice, except service', () => {
    for (const name of ['start', 'end', 'limit', 'order', 'cursor', 'contains']) {
      expect(rejection({ [name]: ['a', 'b'] }).message, name).toBe(`${name} may be given only once`)
    }
  })

  it('reads everything together', () => {
    const cursor = encodeCursor({ after: { ts: us('2026-03-10T10:30:00Z'), seq: 3 }, descending: true })
    expect(parseLogsQuery({
      service: ['api', 'db'],
      start: '2026-03-10T10:00:00Z',
      end: '2026-03-10T11:00:00Z',
      limit: '50',
      order: 'desc',
      cursor,
      contains: 'error'
    }, defaults)).toEqual({
      services: ['api', 'db'],
      start: us('2026-03-10T10:00:00Z'),
      end: us('2026-03-10T11:00:00Z'),
      descending: true,
      limit: 50,
      after: { ts: us('2026-03-10T10:30:00Z'), seq: 3 },
      contains: 'error',
      attrs: [],
      regex: null
    })
  })
})

describe('attr.<name> filters', () => {
  it('reads each attr.<name>=<value>, repeated ones too', () => {
    const q = parseLogsQuery({ 'attr.region': 'eu', 'attr.level': ['error', 'warn'] }, defaults)
    expect(q.attrs).toEqual([{ key: 'region', value: 'eu' }, { key: 'level', value: 'error' }, { key: 'level', value: 'warn' }])
  })

  it('refuses a bare attr. prefix and too many filters', () => {
    expect(() => parseLogsQuery({ 'attr.': 'x' }, defaults)).toThrow(/unknown parameter/)
    const many: Record<string, string> = {}
    for (let i = 0; i < 17; i++) many[`attr.k${i}`] = 'v'
    expect(() => parseLogsQuery(many, defaults)).toThrow(/at most 16/)
  })
})
