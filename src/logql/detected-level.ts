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

/** The level words as bytes, by their first letter: [rank, bytes] pairs. */
const BY_FIRST = new Map<number, Array<readonly [number, Buffer]>>()
for (const [rank, [, words]] of LINE_WORDS.entries()) {
  for (const w of words) {
    const first = w.charCodeAt(0)
    let list = BY_FIRST.get(first)
    if (list === undefined) BY_FIRST.set(first, list = [])
    list.push([rank, Buffer.from(w)])
  }
}

/** By byte: 1 for the bytes of a word as RE2's \b sees one (ASCII letters, digits and _), 2 for those that also start a level word. */
const WORD_BYTES = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95) WORD_BYTES[c] = BY_FIRST.has(c | 0x20) && c >= 65 ? 2 : 1
}
const wordByte = (c: number): boolean => WORD_BYTES[c] !== 0

/** The longest level word's length: a longer word is none. */
const LONGEST_WORD = Math.max(...LINE_WORDS.flatMap(([, words]) => words.map((w) => w.length)))

/** The rank of the level word bytes[start, end) spells in any case, or -1. */
function rankOf (bytes: Uint8Array, start: number, end: number): number {
  const list = BY_FIRST.get(bytes[start]! | 0x20)
  if (list === undefined) return -1
  for (const [rank, word] of list) {
    if (word.length !== end - start) continue
    let k = 1
    while (k < word.length && (bytes[start + k]! | 0x20) === word[k]) k++
    if (k === word.length) return rank
  }
  return -1
}

/**
 * The most severe level word in bytes[from, to) (a line, UTF-8 or JSON-escaped:
 * an escape such as `\n` is skipped whole, so its letter never joins the word
 * after it, as the line itself has a newline there), or 'unknown'. A byte
 * scan: no string is made.
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
    // Only a word whose first letter starts a level word is looked up.
    if (WORD_BYTES[c] !== 2 || i - start > LONGEST_WORD) continue
    const rank = rankOf(bytes, start, i)
    if (rank >= 0 && rank < best) best = rank
  }
  return best === LINE_WORDS.length ? 'unknown' : LINE_WORDS[best]![0]
}

/** The level the first level-like label of `labels` names, or null when it has none. */
export function labelledLevel (labels: Readonly<Record<string, string>>): Level | null {
  for (const name of LEVEL_LABELS) {
    const v = labels[name]
    if (v !== undefined && v !== '') return levelOf(v)
  }
  return null
}

/** The detected level of an entry whose labels are `labels` and whose line is bytes[from, to). */
export function detectLevel (labels: Readonly<Record<string, string>>, bytes: Uint8Array, from: number, to: number): Level {
  return labelledLevel(labels) ?? lineLevel(bytes, from, to)
}
