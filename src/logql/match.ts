import { RE2JS } from 're2js'
import { BadQueryError } from '../errors.js'
import type { LabelExpr, LabelMatcher, LineFilter, LogSelection } from './ast.js'

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

/** A line to whether it passes the filter. */
export function linePredicate (f: LineFilter): (line: string) => boolean {
  const { values } = f
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
  const left = labelExprPredicate(expr.left)
  const right = labelExprPredicate(expr.right)
  return expr.kind === 'and' ? (label) => left(label) && right(label) : (label) => left(label) || right(label)
}

/** The compiled form of a selection, as a shard runs it. */
export interface CompiledSelection {
  /** Whether a stream (its service and labels) is selected. */
  stream: (label: (name: string) => string) => boolean
  /** Whether an entry of a selected stream passes; null when every entry does. */
  entry: ((line: string, label: (name: string) => string) => boolean) | null
}

export function compileSelection (s: LogSelection): CompiledSelection {
  const matchers = s.selector.map((m) => ({ name: m.name, test: labelPredicate(m) }))
  const lines = s.lines.map(linePredicate)
  const labels = s.labels.map(labelExprPredicate)
  return {
    stream: (label) => matchers.every((m) => m.test(label(m.name))),
    entry: lines.length === 0 && labels.length === 0
      ? null
      : (line, label) => lines.every((f) => f(line)) && labels.every((f) => f(label))
  }
}
