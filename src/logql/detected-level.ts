// An entry's detected level, Loki's `detected_level` idea: the value of a
// level-like label (stream label, attribute, or a parsed field) when the entry
// has one, else the most severe level word in its line. The explorer's volume
// histogram groups by it (GET /logs/volume), and a metric query may group by
// it: `sum by (detected_level) (count_over_time({…}[1m]))`.

export const LEVELS = ['error', 'warn', 'info', 'debug', 'unknown'] as const
export type Level = typeof LEVELS[number]

/** The label names that say an entry's level, first found first used. */
export const LEVEL_LABELS = ['level', 'lvl', 'severity', 'detected_level'] as const

/** The label a metric query groups by to count by detected level. */
export const DETECTED_LEVEL = 'detected_level'

/** A label or attribute value as a level (syslog and OTLP names included). */
export function levelOf (value: string): Level {
  const v = value.trim().toLowerCase()
  if (/^(e|err|error|fatal|f|critical|crit|panic|emerg|emergency|alert|severe|[0-3])$/.test(v)) return 'error'
  if (/^(w|warn|warning|4)$/.test(v)) return 'warn'
  if (/^(i|info|information|informational|notice|[56])$/.test(v)) return 'info'
  if (/^(d|debug|dbg|trace|t|verbose|7)$/.test(v)) return 'debug'
  return 'unknown'
}

/** The words that name a level in a line, by level, most severe first (whole words, any case). */
export const LINE_WORDS: ReadonlyArray<readonly [Exclude<Level, 'unknown'>, readonly string[]]> = [
  ['error', ['error', 'err', 'fatal', 'critical', 'crit', 'panic', 'emerg', 'emergency', 'alert', 'exception']],
  ['warn', ['warn', 'warning']],
  ['info', ['info', 'notice', 'information']],
  ['debug', ['debug', 'trace', 'dbg']]
]

/** Rank of each level word (0 = error … 3 = debug). */
const RANK = new Map<string, number>(LINE_WORDS.flatMap(([, words], rank) => words.map((w) => [w, rank] as const)))
const LONGEST = Math.max(...[...RANK.keys()].map((w) => w.length))

/** True for the bytes of a word as RE2's \b sees one: ASCII letters, digits and _. */
const wordByte = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95

/**
 * The most severe level word in bytes[from, to) (a line, UTF-8 or JSON-escaped:
 * an escape's letter joins the word after it, as `\n` then "error" does not
 * spell a word "nerror" in the line itself, so escapes are skipped), or
 * 'unknown'. A byte scan: no string is made for words too long to be one.
 */
export function lineLevel (bytes: Uint8Array, from: number, to: number): Level {
  let best = LINE_WORDS.length
  let i = from
  while (i < to && best > 0) {
    const c = bytes[i]!
    if (c === 92 && i + 1 < to) { // \x: an escape; \uXXXX is skipped whole
      i += bytes[i + 1] === 117 ? 6 : 2
      continue
    }
    if (!wordByte(c)) {
      i++
      continue
    }
    const start = i
    while (i < to && wordByte(bytes[i]!)) i++
    const length = i - start
    if (length <= LONGEST && length >= 3) {
      let word = ''
      for (let k = start; k < i; k++) word += String.fromCharCode(bytes[k]! | 0x20)
      const rank = RANK.get(word)
      if (rank !== undefined && rank < best) best = rank
    }
  }
  return best === LINE_WORDS.length ? 'unknown' : LINE_WORDS[best]![0]
}

/** The detected level of an entry whose labels are `labels` and whose line is bytes[from, to). */
export function detectLevel (labels: Readonly<Record<string, string>>, bytes: Uint8Array, from: number, to: number): Level {
  for (const name of LEVEL_LABELS) {
    const v = labels[name]
    if (v !== undefined && v !== '') return levelOf(v)
  }
  return lineLevel(bytes, from, to)
}
