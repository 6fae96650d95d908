// A token bucket per tenant for ingestion_rate_mb / ingestion_burst_size_mb
// (Loki's, in golang.org/x/time/rate's terms): a tenant's bucket holds up to
// the burst and fills at the rate; a request takes its size at once or is
// refused whole (429, with the seconds until it would fit). A request larger
// than the burst can never fit: it is refused with a word to split it.
//
// With FRONTS > 1 each front thread keeps its own buckets at rate / FRONTS
// and burst / FRONTS: Loki's `global` ingestion_rate_strategy, which splits a
// tenant's limit over its distributors, so no message crosses threads per request.

/** What a refusal says: which limit, its value, and when to retry. */
export interface RateRefusal {
  /** Seconds until the request would fit, or null when it never can (larger than the burst). */
  retryAfter: number | null
  rateBytes: number
  burstBytes: number
}

interface Bucket { tokens: number, at: number, rate: number, burst: number }

/** Buckets past this many are forgotten once full again (a full bucket is what a new one would be). */
const MAX_IDLE_BUCKETS = 10_000

export const MB = 1024 * 1024

export class TenantBuckets {
  private readonly buckets = new Map<string, Bucket>()

  /** `share`: this front's part of every limit (1 / FRONTS); `now`: ms clock (tests pass their own). */
  constructor (readonly share = 1, private readonly now: () => number = () => performance.now()) {}

  /**
   * Takes `bytes` from `tenant`'s bucket of `rateMb` MB/s and `burstMb` MB; null when taken, else
   * why not (nothing is taken then).
   */
  take (tenant: string, bytes: number, rateMb: number, burstMb: number): RateRefusal | null {
    const rate = rateMb * MB * this.share
    const burst = burstMb * MB * this.share
    const now = this.now()
    let b = this.buckets.get(tenant)
    if (b === undefined) {
      if (this.buckets.size >= MAX_IDLE_BUCKETS) this.forgetFull(now)
      b = { tokens: burst, at: now, rate, burst }
      this.buckets.set(tenant, b)
    } else {
      b.tokens = Math.min(burst, b.tokens + (now - b.at) / 1000 * b.rate)
      b.at = now
      b.rate = rate
      b.burst = burst
    }
    if (bytes <= b.tokens) {
      b.tokens -= bytes
      return null
    }
    return { retryAfter: bytes > burst ? null : Math.max(1, Math.ceil((bytes - b.tokens) / rate)), rateBytes: rate, burstBytes: burst }
  }

  private forgetFull (now: number): void {
    for (const [tenant, b] of this.buckets) if (b.tokens + (now - b.at) / 1000 * b.rate >= b.burst) this.buckets.delete(tenant)
  }
}
