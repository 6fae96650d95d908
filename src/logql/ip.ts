import { BlockList, isIP } from 'node:net'
import { BadQueryError } from '../core/errors.js'

// LogQL's ip("…") filters, as Loki runs them (pkg/logql/log/ip.go): the
// pattern is one address, a CIDR prefix (`10.0.0.0/8`) or a range
// (`10.0.0.1-10.0.0.9`), IPv4 or IPv6; node:net's BlockList holds it. A line
// filter looks for addresses in the line with Loki's hints (a digit followed
// by a dot within four bytes, or hex digits then a colon) and reads each run
// of address characters there; a label filter reads the label's value.

const V4_CHARS = new Set('0123456789.')
const V6_CHARS = new Set('0123456789abcdefABCDEF:.')

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c)

const family = (ip: string): 'ipv4' | 'ipv6' | null => {
  const v = isIP(ip)
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null
}

/** A pattern to a test of one address; throws a 400 naming a pattern that is none of the three forms. */
export function ipMatcher (pattern: string): (address: string) => boolean {
  const list = new BlockList()
  const one = family(pattern)
  const slash = pattern.indexOf('/')
  const dash = pattern.indexOf('-')
  if (one !== null) {
    list.addAddress(pattern, one)
  } else if (slash > 0 && family(pattern.slice(0, slash)) !== null && /^\d{1,3}$/.test(pattern.slice(slash + 1))) {
    const net = pattern.slice(0, slash)
    const bits = Number(pattern.slice(slash + 1))
    const type = family(net)!
    if (bits > (type === 'ipv4' ? 32 : 128)) throw badPattern(pattern)
    list.addSubnet(net, bits, type)
  } else if (dash > 0 && family(pattern.slice(0, dash)) !== null && family(pattern.slice(0, dash)) === family(pattern.slice(dash + 1))) {
    const type = family(pattern.slice(0, dash))!
    try {
      list.addRange(pattern.slice(0, dash), pattern.slice(dash + 1), type)
    } catch {
      throw badPattern(pattern) // the range's end before its start
    }
  } else {
    throw badPattern(pattern)
  }
  return (address) => {
    const type = family(address)
    return type !== null && list.check(address, type)
  }
}

function badPattern (pattern: string): Error {
  return new BadQueryError(`ip(${JSON.stringify(pattern.slice(0, 80))}) is not an address, a CIDR prefix (10.0.0.0/8) or a range (10.0.0.1-10.0.0.9)`)
}

/** The length of the run of `chars` at line[start…]. */
function span (line: string, start: number, chars: Set<string>): number {
  let i = start
  while (i < line.length && chars.has(line[i]!)) i++
  return i - start
}

/** True when some address in the line passes `test` (Loki's scan). */
export function lineHasIp (line: string, test: (address: string) => boolean): boolean {
  const n = line.length
  for (let i = 0; i < n; i++) {
    let chars: Set<string> | null = null
    if (i + 3 < n && isDigit(line[i]) && (line[i + 1] === '.' || line[i + 2] === '.' || line[i + 3] === '.')) {
      chars = V4_CHARS
    } else {
      const [a, b, c, d, e] = [line[i], line[i + 1], line[i + 2], line[i + 3], line[i + 4]]
      if ((a === ':' && b === ':' && isHex(c)) || (isHex(a) && b === ':') || (isHex(a) && isHex(b) && c === ':') ||
        (isHex(a) && isHex(b) && isHex(c) && d === ':') || (isHex(a) && isHex(b) && isHex(c) && isHex(d) && e === ':')) chars = V6_CHARS
    }
    if (chars === null) continue
    const len = span(line, i, chars)
    if (test(line.slice(i, i + len))) return true
    // Loki skips past the run it read (the loop's own step adds one more).
    i += len
  }
  return false
}
