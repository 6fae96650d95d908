import { describe, expect, it } from 'vitest'
import { ipMatcher, lineHasIp } from '../../src/logql/ip.js'

// ip("…") patterns and the scan of a line for addresses, as Loki's
// pkg/logql/log/ip.go runs them.

describe('ipMatcher', () => {
  it.each([
    ['192.168.0.1', '192.168.0.1', true], ['192.168.0.1', '192.168.0.2', false],
    ['10.0.0.0/8', '10.200.3.4', true], ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.1-10.0.0.9', '10.0.0.9', true], ['10.0.0.1-10.0.0.9', '10.0.0.10', false],
    ['::1', '::1', true], ['2001:db8::/32', '2001:db8:1::5', true], ['2001:db8::/32', '2001:db9::1', false],
    ['10.0.0.0/8', 'not an ip', false]
  ])('%s holds %s: %s', (pattern, address, holds) => {
    expect(ipMatcher(pattern)(address)).toBe(holds)
  })
  it.each(['', 'abc', '10.0.0.0/33', '10.0.0.9-10.0.0.1', '10.0.0.1-::1', '1.2.3'])('refuses the pattern %j', (pattern) => {
    expect(() => ipMatcher(pattern)).toThrow(/is not an address, a CIDR prefix/)
  })
})

describe('lineHasIp', () => {
  const in10 = ipMatcher('10.0.0.0/8')
  it('finds an address anywhere in the line, IPv4 or IPv6', () => {
    expect(lineHasIp('GET / from 10.1.2.3:443 ok', in10)).toBe(true)
    expect(lineHasIp('client=192.168.1.1 peer=10.9.9.9', in10)).toBe(true)
    expect(lineHasIp('client=192.168.1.1', in10)).toBe(false)
    expect(lineHasIp('version 10.1 build 7', in10)).toBe(false)
    expect(lineHasIp('from [2001:db8::7]:80', ipMatcher('2001:db8::/32'))).toBe(true)
    expect(lineHasIp('', in10)).toBe(false)
  })
  it('reads a run of address characters whole, as Loki does (10.1.2.3.4 is no address)', () => {
    expect(lineHasIp('x 10.1.2.3.4 y', in10)).toBe(false)
  })
})
