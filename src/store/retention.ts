import type { LabelMatcher } from '../logql/ast.js'
import { selectorTest } from '../logql/match.js'
import type { Stream } from './stream.js'

// How long a shard keeps each stream (LIMITS_FILE's retention_period and
// retention_stream, per tenant; Loki's compactor rules): the rule a stream
// gets is the matching retention_stream rule of the highest priority (of
// equal priorities, the shortest period, as Loki's compactor picks), else
// its tenant's retention_period, else RETENTION. Periods lie within 1 minute
// and RETENTION (limits-file.ts checks them), so RETENTION's cutoff is the
// oldest and purge looks no further back than the shortest period.

/** A tenant's retention as plain data (it crosses to the shards in a message). */
export interface TenantRetention {
  /** ms; 0: RETENTION. */
  periodMs: number
  rules: Array<{ selector: string, matchers: LabelMatcher[], priority: number, periodMs: number }>
}

/** Every tenant's retention: `defaults` for tenants without their own. */
export interface RetentionSpec {
  defaults: TenantRetention
  tenants: Record<string, TenantRetention>
}

/** Names the rule a stream's entries were purged by, for /metrics: `retention_stream <selector>`, `retention_period` or `RETENTION`. */
export interface StreamRetention { periodMs: number, rule: string }

interface Compiled { periodMs: number, rules: Array<{ test: (label: (name: string) => string) => boolean, priority: number, periodMs: number, rule: string }> }

export class RetentionPolicy {
  private readonly defaults: Compiled
  private readonly tenants = new Map<string, Compiled>()
  /** The shortest period any stream may get, ms. */
  readonly shortestMs: number

  constructor (spec: RetentionSpec | null, private readonly retentionMs: number) {
    const compile = (t: TenantRetention): Compiled => ({
      periodMs: t.periodMs,
      rules: t.rules.map((r) => ({ test: selectorTest(r.matchers), priority: r.priority, periodMs: r.periodMs, rule: `retention_stream ${r.selector}` }))
    })
    this.defaults = compile(spec?.defaults ?? { periodMs: 0, rules: [] })
    let shortest = retentionMs
    const note = (c: Compiled): void => {
      if (c.periodMs > 0) shortest = Math.min(shortest, c.periodMs)
      for (const r of c.rules) shortest = Math.min(shortest, r.periodMs)
    }
    note(this.defaults)
    for (const [tenant, t] of Object.entries(spec?.tenants ?? {})) {
      const c = compile(t)
      this.tenants.set(tenant, c)
      note(c)
    }
    this.shortestMs = shortest
  }

  /** The longest period any stream may get: RETENTION. */
  get longestMs (): number { return this.retentionMs }

  /** Whether every stream simply gets RETENTION. */
  get plain (): boolean { return this.shortestMs >= this.retentionMs }

  /** The period `stream` is kept and the rule that says so. */
  of (stream: Stream): StreamRetention {
    const t = this.tenants.get(stream.tenant) ?? this.defaults
    let best: Compiled['rules'][number] | null = null
    for (const r of t.rules) {
      if (!r.test((name) => stream.labelValue(name))) continue
      if (best !== null && (best.priority > r.priority || (best.priority === r.priority && best.periodMs <= r.periodMs))) continue
      best = r
    }
    if (best !== null) return { periodMs: best.periodMs, rule: best.rule }
    if (t.periodMs > 0) return { periodMs: t.periodMs, rule: 'retention_period' }
    return { periodMs: this.retentionMs, rule: 'RETENTION' }
  }
}
