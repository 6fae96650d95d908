import { describe, expect, it } from 'vitest'
import { hostName, isLoopbackHost, sourceCheck } from '../../src/http/origin.js'

const check = (settings: { host?: string, corsOrigin?: string, allowedHosts?: string }) =>
  sourceCheck({ host: '127.0.0.1', corsOrigin: '', allowedHosts: '', ...settings })

const refusal = (fn: () => void): string | undefined => {
  try {
    fn()
  } catch (err) {
    return (err as { code: string }).code
  }
  return undefined
}

describe('hostName and isLoopbackHost', () => {
  it('drops the port and reads bracketed IPv6', () => {
    expect(hostName('LocalHost:8000')).toBe('localhost')
    expect(hostName('[::1]:80')).toBe('[::1]')
    expect(hostName('127.0.0.1')).toBe('127.0.0.1')
    expect(hostName('evil.example.:80')).toBe('evil.example')
  })

  it('knows loopback names', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) expect(isLoopbackHost(h), h).toBe(true)
    for (const h of ['evil.example', '10.0.0.1', 'localhost.evil.example', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false)
  })
})

describe('sourceCheck', () => {
  it('refuses any Origin unless CORS_ORIGIN allows it; no Origin is fine', () => {
    const c = check({})!
    expect(refusal(() => c({ host: 'localhost:8000' }))).toBeUndefined()
    expect(refusal(() => c({ host: 'localhost:8000', origin: 'https://evil.example' }))).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    expect(refusal(() => c({ host: 'localhost:8000', origin: 'null' }))).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    const one = check({ corsOrigin: 'https://grafana.example' })!
    expect(refusal(() => one({ origin: 'https://grafana.example' }))).toBeUndefined()
    expect(refusal(() => one({ origin: 'https://evil.example' }))).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    expect(refusal(() => check({ corsOrigin: '*' })!({ origin: 'https://any.example', host: 'localhost' }))).toBeUndefined()
  })

  it('lets a page of the server itself through (Origin is the request\'s own scheme and Host) and nothing like it', () => {
    const c = check({})!
    expect(refusal(() => c({ host: '127.0.0.1:8000', origin: 'http://127.0.0.1:8000' }))).toBeUndefined()
    expect(refusal(() => c({ host: 'localhost:8000', origin: 'http://localhost:8000' }))).toBeUndefined()
    expect(refusal(() => c({ host: '127.0.0.1:8000', origin: 'http://127.0.0.1:8001' }))).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    expect(refusal(() => c({ host: '127.0.0.1:8000', origin: 'http://localhost:8000' }))).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    expect(refusal(() => c({ host: '127.0.0.1:8000', origin: 'http://127.0.0.1:8000.evil.example' }))).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    expect(refusal(() => c({ origin: 'http://127.0.0.1:8000' }))).toBe('LOGAGG_ERR_FORBIDDEN_ORIGIN')
    // A rebinding page is same-origin with its own name, which the loopback Host check refuses.
    expect(refusal(() => c({ host: 'rebind.evil.example:8000', origin: 'http://rebind.evil.example:8000' }))).toBe('LOGAGG_ERR_FORBIDDEN_HOST')
  })

  it('on loopback accepts only loopback Host values or those ALLOWED_HOSTS names', () => {
    const c = check({})!
    for (const host of ['localhost', '127.0.0.1:9', '[::1]:8000']) expect(refusal(() => c({ host })), host).toBeUndefined()
    expect(refusal(() => c({ host: 'rebind.evil.example:8000' }))).toBe('LOGAGG_ERR_FORBIDDEN_HOST')
    const named = check({ allowedHosts: 'logs.internal' })!
    expect(refusal(() => named({ host: 'logs.internal:8000' }))).toBeUndefined()
    expect(refusal(() => named({ host: 'other.internal' }))).toBe('LOGAGG_ERR_FORBIDDEN_HOST')
    expect(refusal(() => check({ allowedHosts: '*' })!({ host: 'anything' }))).toBeUndefined()
  })

  it('does not check Host when listening on other addresses', () => {
    expect(refusal(() => check({ host: '0.0.0.0' })!({ host: 'anything.example' }))).toBeUndefined()
    expect(check({ host: '0.0.0.0', corsOrigin: '*' })).toBeNull()
  })
})
