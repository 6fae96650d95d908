import type { LogRecord } from './record.js'

// Per-tenant limits on one entry (LIMITS_FILE's max_line_size,
// max_label_names_per_series, max_structured_metadata_entries_count), checked
// where entries are parsed: on the front for records, on the shards for
// lines and pushed streams (the batch carries the tenant's limits). An entry
// past one is refused like any invalid entry, in the protocol's own answer.

export interface EntryLimits {
  /** Bytes of the message (UTF-8); 0: no limit beyond the store's own. */
  maxLineSize: number
  /** Stream labels, service included. */
  maxLabelNames: number
  /** Attributes (structured metadata). */
  maxAttributes: number
}

/** Why `r` is past `limits`, in words that say which limit and what to do; null when it is within them. */
export function entryLimitProblem (r: LogRecord, limits: EntryLimits): string | null {
  if (limits.maxLineSize > 0 && r.message.length > limits.maxLineSize / 3) {
    const bytes = Buffer.byteLength(r.message)
    if (bytes > limits.maxLineSize) return `the message is ${bytes} bytes long, more than this tenant's max_line_size (${limits.maxLineSize} bytes); shorten it or raise the limit in LIMITS_FILE`
  }
  const labels = 1 + (r.labels === null ? 0 : r.labels.length / 2)
  if (labels > limits.maxLabelNames) return `the stream has ${labels} label names (service included), more than this tenant's max_label_names_per_series (${limits.maxLabelNames}); drop some labels or raise the limit in LIMITS_FILE`
  const attributes = r.attributes === null ? 0 : r.attributes.length / 2
  if (attributes > limits.maxAttributes) return `the entry has ${attributes} attributes, more than this tenant's max_structured_metadata_entries_count (${limits.maxAttributes}); drop some or raise the limit in LIMITS_FILE`
  return null
}
