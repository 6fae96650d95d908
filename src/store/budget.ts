import { YIELD, type ScanBudget } from './scan.js'

/** A query looked at more entries, ran longer than it may, or was cancelled. */
export class QueryBudgetError extends Error {
  constructor (readonly code: string, message: string) {
    super(message)
  }
}

export const CANCELLED = 'LOGAGG_ERR_QUERY_CANCELLED'

/** Counts what one query examines, and tells the scan when to give the thread back. */
export class Budget implements ScanBudget {
  private checks = 0
  private sliceStart = Date.now()
  /** Set when the current slice has run long enough; the scan stops at the next entry boundary. */
  yieldNow = false

  private readonly allowed: number
  private left: number

  constructor (allowed: number, private readonly deadline: number, private readonly sliceMs = Infinity) {
    // Finite, so that spent is a number when no limit was given.
    this.left = this.allowed = Math.min(allowed, Number.MAX_SAFE_INTEGER)
  }

  /** Entries examined so far. */
  get spent (): number { return this.allowed - this.left }

  spend (): void {
    if (this.yieldNow) throw YIELD
    if (--this.left < 0) {
      throw new QueryBudgetError('LOGAGG_ERR_QUERY_TOO_EXPENSIVE', 'the query examined more entries than QUERY_MAX_SCAN allows; narrow the time range, name services, or drop contains')
    }
    if ((++this.checks & 255) === 0) {
      const now = Date.now()
      if (now > this.deadline) {
        throw new QueryBudgetError('LOGAGG_ERR_QUERY_TIMEOUT', 'the query ran past QUERY_TIMEOUT; narrow the time range, name services, or drop contains')
      }
      if (now - this.sliceStart >= this.sliceMs) this.yieldNow = true
    }
  }

  /** Starts a new slice after the scan gave the thread back. */
  resume (): void {
    this.yieldNow = false
    this.sliceStart = Date.now()
  }
}
