// The bounds of a metric query, checked where series are made: on each shard
// as its sink opens a series (so a shard stops at the limit instead of
// building them all) and on the front thread over the series of all shards.
// Measured before these limits (issue 18): 3000 distinct `| json` series ×
// 11,000 points were built and serialised at once, the front thread blocked
// for 51 s at 4.1 GB RSS; 300 series made a 69 MB answer.

export interface MetricLimits {
  /** Series one metric query may make (MAX_QUERY_SERIES; Loki's max_query_series, 500). */
  maxSeries: number
  /** Series × evaluation times one metric query may make (MAX_QUERY_SAMPLES). */
  maxSamples: number
}

/** Why `series` series of `points` values each are too many, or null when they are within the limits. */
export function metricLimitError (series: number, points: number, limits: MetricLimits): string | null {
  if (series > limits.maxSeries) {
    return `the query makes more than ${limits.maxSeries} series (MAX_QUERY_SERIES); aggregate them with sum by (...), narrow the selector, or drop labels with | drop / | keep`
  }
  if (series * points > limits.maxSamples) {
    return `the query makes more than ${limits.maxSamples} samples (MAX_QUERY_SAMPLES): ${series} series × ${points} points; raise step, narrow the time range or the selector, or aggregate with sum by (...)`
  }
  return null
}
