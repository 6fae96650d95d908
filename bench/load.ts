import autocannon from 'autocannon'

// Drives one target with autocannon's programmatic API: an optional warm-up
// run that is thrown away, then the measured run. Latency is recorded from
// autocannon's 'response' event at full (sub-ms) precision rather than from its
// 1 ms-granular histogram, and split by request kind (ingest / query) using
// each request's onResponse hook, which autocannon calls just before it emits
// 'response' for the same reply.

/** A request in the rotation, tagged with the kind it is counted under. */
export interface TaggedRequest {
  kind: string
  request: autocannon.Request
}

export interface LatencyStats {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

export interface LoadResult {
  durationS: number
  /** Completed requests, any status. */
  requests: number
  rps: number
  latency: LatencyStats
  byKind: Record<string, LatencyStats>
  /** 2xx answers of each kind in the measured run. */
  okByKind: Record<string, number>
  non2xx: number
  warmupNon2xx: number
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  /** The first few non-2xx answers, status and body start. */
  failures: string[]
}

export interface LoadOptions {
  url: string
  connections: number
  durationS: number
  warmupS: number
  /** Builds the rotation; called once per autocannon run. */
  requests: () => TaggedRequest[]
  /** Called just before the measured run starts (after the warm-up). */
  onMeasuredStart?: () => void
}

/** Most latencies kept per kind; past it, reservoir sampling keeps a uniform sample. */
const MAX_SAMPLES = 2_000_000
const MAX_FAILURES = 3
/**
 * autocannon notices the end of a run only at its next sample tick (1 s by
 * default), so a 3 s run could last 4 s; a short tick ends runs on time. Its
 * per-tick request counts are not used here: rps is total / duration.
 */
const SAMPLE_MS = 100
/** Extra time an autocannon run may take before it is stopped by force. */
const OVERRUN_S = 30

class Samples {
  private values = new Float64Array(1024)
  private n = 0
  private seen = 0
  private sum = 0
  private max = 0

  add (v: number): void {
    this.seen++
    this.sum += v
    if (v > this.max) this.max = v
    if (this.n < MAX_SAMPLES) {
      if (this.n === this.values.length) {
        const grown = new Float64Array(Math.min(this.values.length * 2, MAX_SAMPLES))
        grown.set(this.values)
        this.values = grown
      }
      this.values[this.n++] = v
    } else {
      const j = Math.floor(Math.random() * this.seen)
      if (j < MAX_SAMPLES) this.values[j] = v
    }
  }

  stats (): LatencyStats {
    const sorted = this.values.slice(0, this.n).sort()
    const at = (p: number): number => (this.n === 0 ? NaN : sorted[Math.max(0, Math.ceil(p * this.n) - 1)]!)
    return { count: this.seen, mean: this.seen === 0 ? NaN : this.sum / this.seen, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: this.max }
  }
}

interface RunOutcome {
  result: autocannon.Result
  all: Samples
  byKind: Map<string, Samples>
  ok: Map<string, number>
  failures: string[]
}

function runOnce (opts: LoadOptions, durationS: number): Promise<RunOutcome> {
  const all = new Samples()
  const byKind = new Map<string, Samples>()
  const ok = new Map<string, number>()
  const failures: string[] = []
  let lastKind = 'unknown'
  const requests = opts.requests().map(({ kind, request }) => {
    if (!byKind.has(kind)) byKind.set(kind, new Samples())
    ok.set(kind, 0)
    return {
      ...request,
      onResponse: (status: number, body: string) => {
        lastKind = kind
        if (status >= 200 && status <= 299) ok.set(kind, ok.get(kind)! + 1)
        else if (failures.length < MAX_FAILURES) failures.push(`${kind}: ${status} ${body.slice(0, 300)}`)
      }
    }
  })

  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: opts.url,
      connections: opts.connections,
      duration: durationS,
      timeout: OVERRUN_S,
      sampleInt: SAMPLE_MS,
      requests
    }, (err, result) => {
      clearTimeout(guard)
      if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)))
      else resolve({ result, all, byKind, ok, failures })
    })
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      all.add(responseTime)
      byKind.get(lastKind)?.add(responseTime)
    })
    // autocannon calls back asynchronously, so `guard` is set by then.
    const guard = setTimeout(() => instance.stop(), (durationS + OVERRUN_S) * 1000)
  })
}

export async function runLoad (opts: LoadOptions): Promise<LoadResult> {
  let warmupNon2xx = 0
  const failures: string[] = []
  if (opts.warmupS > 0) {
    const warm = await runOnce(opts, opts.warmupS)
    warmupNon2xx = warm.result.non2xx
    failures.push(...warm.failures.map((f) => `warm-up ${f}`))
  }
  opts.onMeasuredStart?.()
  const { result, all, byKind, ok, failures: measured } = await runOnce(opts, opts.durationS)
  failures.push(...measured)
  const statusCodes: Record<string, number> = {}
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {}
  for (const [code, { count }] of Object.entries(stats)) statusCodes[code] = count
  const durationS = result.duration
  const requests = result.requests.total
  return {
    durationS,
    requests,
    rps: durationS > 0 ? requests / durationS : 0,
    latency: all.stats(),
    byKind: Object.fromEntries([...byKind].map(([k, s]) => [k, s.stats()])),
    okByKind: Object.fromEntries(ok),
    non2xx: result.non2xx,
    warmupNon2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    failures: failures.slice(0, MAX_FAILURES * 2)
  }
}
