import { describe, expect, it } from 'vitest'
import { formEntry } from '../../src/ingest/formats/form-record.js'

const NOW = Date.UTC(2026, 11, 2, 12) * 1000
const window = { oldest: NOW - 3600e6, newest: NOW + 600e6 }

describe('formEntry', () => {
  it('maps a Python LogRecord (HTTPHandler) to an entry: name, msg, created, levelname, other fields as attributes', () => {
    const created = NOW / 1e6 - 1.5
    const body = new URLSearchParams([
      ['name', 'billing.jobs'], ['msg', 'user %s logged in'], ['args', "('bob',)"], ['levelname', 'WARNING'], ['levelno', '30'],
      ['pathname', '/srv/app.py'], ['filename', 'app.py'], ['module', 'app'], ['exc_info', 'None'], ['exc_text', 'None'],
      ['stack_info', 'None'], ['lineno', '12'], ['funcName', 'login'], ['created', String(created)], ['msecs', '500.0'],
      ['relativeCreated', '12.5'], ['thread', '1401'], ['threadName', 'MainThread'], ['processName', 'MainProcess'], ['process', '77']
    ]).toString()
    expect(formEntry(body, window)).toEqual({
      service: 'billing.jobs',
      ts: NOW - 1_500_000,
      message: 'user %s logged in',
      labels: null,
      attributes: ['level', 'WARNING', 'args', "('bob',)", 'pathname', '/srv/app.py', 'module', 'app', 'lineno', '12', 'funcName', 'login',
        'thread', '1401', 'threadName', 'MainThread', 'processName', 'MainProcess', 'process', '77']
    })
  })

  it('prefers a formatted message field, and the entry\'s own names (service, timestamp, message)', () => {
    const r = formEntry(`name=py&msg=a%20%25s&args=(1,)&message=a%201&created=${NOW / 1e6}`, window)
    expect(r).toMatchObject({ service: 'py', message: 'a 1', ts: NOW })
    const own = formEntry(`service=api&timestamp=${encodeURIComponent('2026-12-02T11:59:00Z')}&message=hi&region=eu`, window)
    expect(own).toMatchObject({ service: 'api', message: 'hi', ts: NOW - 60e6, attributes: ['region', 'eu'] })
  })

  it('says what is missing or wrong, as for JSON entries', () => {
    expect(formEntry('msg=x&created=1', window)).toMatch(/^form body has no service field \(nor Python logging's name\)/)
    expect(formEntry('name=x&created=1', window)).toMatch(/^form body has no message field \(nor Python logging's msg\)/)
    expect(formEntry('name=x&msg=m', window)).toMatch(/^timestamp is missing/)
    expect(formEntry('name=x&msg=m&created=1', window)).toMatch(/^timestamp 1 \(1970-01-01T00:00:01.000000Z\) is older than the retention window/)
    expect(formEntry('name=x&msg=m&created=soon', window)).toMatch(/^timestamp "soon" is not an ISO 8601 time/)
  })
})
