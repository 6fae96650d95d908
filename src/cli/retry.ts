// When to try a refused batch again: 429 (a shard's queue is full) and 503
// (a shard restarting, the server shutting down) are worth retrying. The
// server's Retry-After wins; otherwise the wait doubles from 250 ms to 10 s.

export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 503])
export const DEFAULT_RETRIES = 5
const FIRST_MS = 250
const MAX_MS = 10_000
/** A Retry-After longer than this is not waited for: the CLI gives up instead of hanging. */
export const MAX_RETRY_AFTER_MS = 120_000

/** Milliseconds to wait before retry number `attempt` (0 for the first retry). */
export function retryDelayMs (attempt: number, retryAfter: string | null, nowMs: number): number {
  if (retryAfter !== null && retryAfter.trim() !== '') {
    const text = retryAfter.trim()
    if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS)
    const at = Date.parse(text)
    if (!Number.isNaN(at)) return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS)
  }
  return Math.min(FIRST_MS * 2 ** attempt, MAX_MS)
}
