// Synthetic log data shared by every scenario: 50 service names, ~80-byte
// messages, a seeded PRNG so runs are repeatable, and a fast writer for the
// fixed-width timestamps (YYYY-MM-DDTHH:MM:SS.ffffffZ, 27 bytes) that the
// load generator stamps into pre-built bodies just before each request.

export const SERVICE_COUNT = 50
export const SERVICES: readonly string[] = Array.from({ length: SERVICE_COUNT }, (_, i) => `svc-${String(i).padStart(2, '0')}`)

/** Width in bytes of every timestamp this module writes. */
export const TS_WIDTH = 27

/** mulberry32: a small, fast, seeded PRNG returning numbers in [0, 1). */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const VERBS = ['GET', 'POST', 'PUT', 'DELETE']
const PATHS = ['/api/v1/orders', '/api/v1/users', '/api/v2/cart/items', '/internal/health', '/api/v1/payments']
const STATUS = [200, 200, 200, 201, 204, 304, 400, 404, 500]

/** A plain-ASCII message of exactly 80 characters (no JSON escaping needed). */
export function makeMessage (rand: () => number): string {
  const verb = VERBS[Math.floor(rand() * VERBS.length)]!
  const path = PATHS[Math.floor(rand() * PATHS.length)]!
  const id = Math.floor(rand() * 1e6)
  const status = STATUS[Math.floor(rand() * STATUS.length)]!
  const ms = (rand() * 250).toFixed(1)
  const trace = Math.floor(rand() * 0xffffffff).toString(16).padStart(8, '0')
  const text = `${verb} ${path}/${id} ${status} ${ms}ms trace=${trace} user=u${Math.floor(rand() * 1e5)}`
  return (text + ' ' + 'x'.repeat(80)).slice(0, 80)
}

/** The current time in epoch microseconds, with sub-millisecond precision. */
export function nowUs (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

/**
 * Writes epoch-µs timestamps as 27 ASCII bytes. The "YYYY-MM-DDTHH:MM:SS"
 * prefix is cached per second, so a write is a 19-byte copy and 8 digits.
 */
export class TimestampWriter {
  private second = NaN
  private readonly prefix = Buffer.alloc(19)
  private textSecond = NaN
  private textPrefix = ''

  write (buf: Buffer, at: number, us: number): void {
    us = Math.round(us)
    const second = Math.floor(us / 1e6)
    if (second !== this.second) {
      this.second = second
      this.prefix.write(new Date(second * 1000).toISOString().slice(0, 19), 'latin1')
    }
    this.prefix.copy(buf, at)
    buf[at + 19] = 46 // '.'
    let fraction = us - second * 1e6
    for (let j = at + 25; j >= at + 20; j--) {
      buf[j] = 48 + (fraction % 10)
      fraction = Math.floor(fraction / 10)
    }
    buf[at + 26] = 90 // 'Z'
  }

  /** The same 27 characters as a string. */
  format (us: number): string {
    us = Math.round(us)
    const second = Math.floor(us / 1e6)
    if (second !== this.textSecond) {
      this.textSecond = second
      this.textPrefix = new Date(second * 1000).toISOString().slice(0, 19)
    }
    return `${this.textPrefix}.${String(us - second * 1e6).padStart(6, '0')}Z`
  }
}

/** One entry as an NDJSON line (no newline), with the timestamp already written. */
export function entryLine (service: string, timestamp: string, message: string): string {
  return `{"service":"${service}","timestamp":"${timestamp}","message":"${message}"}`
}
