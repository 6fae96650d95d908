// Writes epoch microseconds as RFC 3339 UTC with six fraction digits
// (`2026-11-27T21:50:00.123456Z`, 27 ASCII bytes) straight into a buffer:
// the date part is cached per day, the rest is arithmetic. Once per entry on
// the query path, so no string is made.

const US_PER_SECOND = 1_000_000
const US_PER_DAY = 86_400 * US_PER_SECOND
export const UTC_WIDTH = 27

let cachedDay = NaN
const dayPrefix = Buffer.alloc(11) // YYYY-MM-DDT

function two (buf: Uint8Array, at: number, n: number): void {
  buf[at] = 48 + Math.floor(n / 10)
  buf[at + 1] = 48 + (n % 10)
}

/** Writes `us` at `at`; the caller has made UTC_WIDTH bytes of room. */
export function writeUtc (buf: Buffer, at: number, us: number): void {
  const day = Math.floor(us / US_PER_DAY)
  if (day !== cachedDay) {
    cachedDay = day
    dayPrefix.write(new Date(day * 86_400_000).toISOString().slice(0, 11), 'latin1')
  }
  for (let k = 0; k < 11; k++) buf[at + k] = dayPrefix[k]!
  const inDay = us - day * US_PER_DAY
  const seconds = Math.floor(inDay / US_PER_SECOND)
  let micros = inDay - seconds * US_PER_SECOND
  two(buf, at + 11, Math.floor(seconds / 3600))
  buf[at + 13] = 58
  two(buf, at + 14, Math.floor(seconds / 60) % 60)
  buf[at + 16] = 58
  two(buf, at + 17, seconds % 60)
  buf[at + 19] = 46
  for (let k = at + 25; k >= at + 20; k--) {
    buf[k] = 48 + (micros % 10)
    micros = Math.floor(micros / 10)
  }
  buf[at + 26] = 90
}
