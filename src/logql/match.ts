import logfmt from 'logfmt'
import { RE2JS } from 're2js'
import { BadQueryError } from '../core/errors.js'
import { MAX_JSON_DEPTH } from '../core/json-depth.js'
import type { CompareOp, LabelComparison, LabelExpr, LabelMatcher, LineFilter, LogSelection } from './ast.js'
import { goDurationNs, goFloat, humanBytes } from './units.js'
import { ipMatcher, lineHasIp } from './ip.js'

// The LogQL subset's matchers and filters as predicates. Every regex runs on
// RE2 (re2js, linear time), so no pattern a user sends can stall a shard the
// way a backtracking RegExp can on `(a+)+$`. Label regexes are anchored at
// both ends and line regexes are not, as in Loki.

/** Compiles a user pattern; a 400 that quotes it when RE2 refuses it. */
export function compileRegex (pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern)
  } catch (err) {
    throw new BadQueryError(`the regular expression ${JSON.stringify(pattern.slice(0, 100))} is not valid RE2 syntax: ${(err as Error).message}`)
  }
}

/** A label's value ('' when the label is absent) to whether it matches. */
export function labelPredicate (m: LabelMatcher): (value: string) => boolean {
  switch (m.op) {
    case '=': return (v) => v === m.value
    case '!=': return (v) => v !== m.value
    case '=~': {
      const re = compileRegex(m.value)
      return (v) => re.matches(v)
    }
    default: {
      const re = compileRegex(m.value)
      return (v) => !re.matches(v)
    }
  }
}

/** The comparison operators as functions (label filters here, comparisons between values in evaluate.ts). */
export const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b
}

const READ: Record<LabelComparison['unit'], (text: string) => number | null> = { number: goFloat, duration: goDurationNs, bytes: humanBytes }

/**
 * A label's value ('' when absent) to whether the comparison holds. As in
 * Loki: an entry without the label fails; one whose value does not read as
 * the unit passes (Loki also marks it `__error__=LabelFilterErr`, which this
 * server does not).
 */
export function comparisonPredicate (c: LabelComparison): (value: string) => boolean {
  const compare = COMPARE[c.op]
  const read = READ[c.unit]
  return (v) => {
    if (v === '') return false
    const n = read(v)
    return n === null || compare(n, c.value)
  }
}

/** A line to whether it passes the filter. */
export function linePredicate (f: LineFilter): (line: string) => boolean {
  const { values } = f
  if (f.ip === true) {
    const tests = values.map(ipMatcher)
    const has = (line: string): boolean => tests.some((t) => lineHasIp(line, t))
    return f.op === '!=' ? (line) => !has(line) : has
  }
  switch (f.op) {
    case '|=': return (line) => values.some((v) => line.includes(v))
    case '!=': return (line) => !values.some((v) => line.includes(v))
    case '|~': {
      const res = values.map(compileRegex)
      return (line) => res.some((re) => re.test(line))
    }
    default: {
      const res = values.map(compileRegex)
      return (line) => !res.some((re) => re.test(line))
    }
  }
}

/** A label filter expression to a predicate over a label lookup. */
export function labelExprPredicate (expr: LabelExpr): (label: (name: string) => string) => boolean {
  if (expr.kind === 'match') {
    const test = labelPredicate(expr.matcher)
    const name = expr.matcher.name
    return (label) => test(label(name))
  }
  if (expr.kind === 'ip') {
    const test = ipMatcher(expr.pattern)
    const { name, negate } = expr
    // As in Loki: an entry without the label fails either way.
    return (label) => {
      const v = label(name)
      return v !== '' && test(v) !== negate
    }
  }
  if (expr.kind === 'compare') {
    const test = comparisonPredicate(expr.comparison)
    const name = expr.comparison.name
    return (label) => test(label(name))
  }
  const left = labelExprPredicate(expr.left)
  const right = labelExprPredicate(expr.right)
  return expr.kind === 'and' ? (label) => left(label) && right(label) : (label) => left(label) || right(label)
}

/** A stream selector as one test over a label lookup (every matcher must hold). */
export function selectorTest (selector: readonly LabelMatcher[]): (label: (name: string) => string) => boolean {
  const matchers = selector.map((m) => ({ name: m.name, test: labelPredicate(m) }))
  return (label) => matchers.every((m) => m.test(label(m.name)))
}

/** The service a selector names exactly (`service="x"`), whose shard alone can hold its streams; null when it names none. */
export function singleService (selector: readonly LabelMatcher[] | null): string | null {
  return selector?.find((m) => m.name === 'service' && m.op === '=')?.value ?? null
}

/** The compiled form of a selection, as a shard runs it. */
export interface CompiledSelection {
  /** Whether a stream (its service and labels) is selected. */
  stream: (label: (name: string) => string) => boolean
  /** Whether an entry of a selected stream passes; null when every entry does. */
  entry: ((line: string, label: (name: string) => string) => boolean) | null
}

export function compileSelection (s: LogSelection): CompiledSelection {
  const lines = s.lines.map(linePredicate)
  const labels = s.labels.map(labelExprPredicate)
  const { parser } = s
  return {
    stream: selectorTest(s.selector),
    entry: lines.length === 0 && labels.length === 0
      ? null
      : parser === undefined
        ? (line, label) => lines.every((f) => f(line)) && labels.every((f) => f(label))
        : (line, label) => {
            if (!lines.every((f) => f(line))) return false
            // The line's fields, parsed only if a label filter asks for a name the entry does not have.
            let fields: Record<string, string> | null = null
            const lookup = (name: string): string => {
              const own = label(name)
              if (own !== '') return own
              fields ??= lineFields(parser, line)
              return fields[name] ?? ''
            }
            return labels.every((f) => f(lookup))
          }
  }
}

/**
 * A line's fields, as Loki's parsers make them: `json` flattens nested
 * objects with `_` (arrays are left out), `logfmt` reads key=value pairs (a
 * bare key is "true"). Names are made label-safe (anything else becomes `_`).
 * Objects nested deeper than MAX_JSON_DEPTH are left out, as arrays are (a
 * stored 10,000-deep line overflowed the stack of every query over it).
 * A line the parser cannot read gets `__error__` (JSONParserErr,
 * LogfmtParserErr), as in Loki.
 */
export function lineFields (parser: 'json' | 'logfmt', line: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (parser === 'logfmt') {
    try {
      const parsed = logfmt.parse(line)
      for (const key in parsed) {
        const v = parsed[key]
        if (v !== null && v !== undefined) out[labelSafe(key)] = v === true ? 'true' : String(v)
      }
    } catch {
      out.__error__ = 'LogfmtParserErr'
    }
    return out
  }
  let doc: unknown
  try {
    doc = JSON.parse(line)
  } catch {
    return { __error__: 'JSONParserErr' }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { __error__: 'JSONParserErr' }
  const walk = (o: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const key in o) {
      const v = o[key]
      const name = prefix + labelSafe(key)
      if (v === null || Array.isArray(v)) continue
      if (typeof v !== 'object') out[name] = String(v)
      else if (depth < MAX_JSON_DEPTH) walk(v as Record<string, unknown>, `${name}_`, depth + 1)
    }
  }
  walk(doc as Record<string, unknown>, '', 1)
  return out
}

const labelSafe = (key: string): string => key.replace(/[^a-zA-Z0-9_]/g, '_')
