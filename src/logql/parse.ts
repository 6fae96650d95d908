import { parser } from '@grafana/lezer-logql'
import type { SyntaxNode } from '@lezer/common'
import { BadQueryError } from '../core/errors.js'
import { durationUs } from '../core/timestamp.js'
import { compileRegex, labelPredicate } from './match.js'
import { goDurationNs, goFloat, humanBytes } from './units.js'
import { ipMatcher } from './ip.js'
import type { Unwrap, ArithmeticOp, BinaryOp, CompareOp, SetOp, Grouping, LabelComparison, LabelExpr, LabelMatcher, LineFilter, LogQuery, MatchOp, MetricExpr, Query, RangeOp, VectorOp } from './ast.js'
import { RANGE_FUNCTIONS, RANGE_FUNCTION_NAMES, rangeFunction, rangeFunctionAt, type Conversion } from './range-functions.js'

// LogQL text → the subset's AST (ast.ts), with Grafana's own grammar
// (@grafana/lezer-logql, what Grafana's query editor parses with). The tree
// is walked by node name; anything the grammar accepts that this server does
// not run is refused with a 400 that names it, and a syntax error names the
// place where the text stops making sense.

/** Longest query accepted, in characters. */
export const MAX_QUERY_LENGTH = 16 * 1024

const bad = (message: string): Error => new BadQueryError(message)

const MATCH_OPS: Record<string, MatchOp> = { Eq: '=', Neq: '!=', Re: '=~', Nre: '!~' }
const LINE_OPS: Record<string, LineFilter['op']> = { PipeExact: '|=', Neq: '!=', PipeMatch: '|~', Nre: '!~' }
const COMPARE_OPS: Record<string, CompareOp> = { Eq: '==', Eql: '==', Neq: '!=', Gtr: '>', Gte: '>=', Lss: '<', Lte: '<=' }
const SET_OPS: Record<string, SetOp> = { And: 'and', Or: 'or', Unless: 'unless' }
const SET_OP_NAMES: Record<SetOp, true> = { and: true, or: true, unless: true }
/** PromQL's binding strength, tightest highest. */
const PRECEDENCE: Record<BinaryOp, number> = {
  '^': 6,
  '*': 5,
  '/': 5,
  '%': 5,
  '+': 4,
  '-': 4,
  '==': 3,
  '!=': 3,
  '>': 3,
  '>=': 3,
  '<': 3,
  '<=': 3,
  and: 2,
  unless: 2,
  or: 1
}
const ARITHMETIC: Record<string, ArithmeticOp> = { Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^' }
const VECTOR_OPS: Record<string, VectorOp> = { Sum: 'sum', Count: 'count', Min: 'min', Max: 'max', Avg: 'avg', Stddev: 'stddev', Stdvar: 'stdvar', Topk: 'topk', Bottomk: 'bottomk', Sort: 'sort', Sort_Desc: 'sort_desc' }

/** What a user would call the construct a node stands for, for "not supported" errors. */
const NAMES: Record<string, string> = {
  LabelParser: 'parser stages other than | json and | logfmt (| regexp, | unpack, | pattern)',
  JsonExpressionParser: '| json with expressions',
  LogfmtExpressionParser: '| logfmt with expressions',
  LogfmtParser: '| logfmt with flags',
  UnwrapExpr: '| unwrap',
  LabelFormatExpr: '| label_format',
  DecolorizeExpr: '| decolorize',
  DistinctFilter: '| distinct',
  OffsetExpr: 'offset',
  Grouping: 'by / without on range aggregations',
  LabelReplaceExpr: 'label_replace',
  PipePattern: 'pattern line filters (|>, !>)',
  BinOpModifier: 'bool, on(), ignoring() and group_left/right modifiers',
  Offset: 'offset'
}

class Walker {
  constructor (private readonly text: string) {}

  of (node: SyntaxNode): string { return this.text.slice(node.from, node.to) }

  unsupported (node: SyntaxNode): Error {
    const what = NAMES[node.name] ?? node.name
    return bad(`${what} ${what.endsWith(')') || what.includes(',') ? 'are' : 'is'} not supported by this server (at "${this.of(node).slice(0, 60)}"); the supported LogQL is a stream selector, line filters (|= != |~ !~), label filters (= != =~ !~), drop and keep, ${RANGE_FUNCTIONS.map((f) => f.name).join(' / ')}, sum / count / min / max / avg / stddev / stdvar / topk / bottomk / sort / sort_desc with by or without, arithmetic, comparisons and and / or / unless`)
  }

  kids (node: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = []
    for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c)
    return out
  }

  one (node: SyntaxNode, name: string): SyntaxNode {
    const found = node.getChild(name)
    if (found === null) throw this.unsupported(node)
    return found
  }

  /** A Go string literal: "…" with escapes, or `…` raw. */
  string (node: SyntaxNode): string {
    const raw = this.of(node)
    if (raw.startsWith('`')) return raw.slice(1, -1)
    try {
      // Go's escapes are JSON's plus \a \v \' and octal/hex forms; the common ones are JSON's.
      return JSON.parse(raw.replace(/\\'/g, "'").replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b').replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as string
    } catch {
      throw bad(`the string ${raw.slice(0, 60)} has an escape this server does not read; use \\n, \\t, \\", \\\\ or \\uXXXX`)
    }
  }

  matcher (node: SyntaxNode): LabelMatcher {
    const [name, op, value] = this.kids(node)
    if (name?.name !== 'Identifier' || op === undefined || value?.name !== 'String') throw this.unsupported(node)
    const match = MATCH_OPS[op.name]
    if (match === undefined) throw this.unsupported(op)
    return { name: this.of(name), op: match, value: this.string(value) }
  }

  /** Nodes of `name` in a left-recursive list (Matchers(Matchers(Matcher), Matcher) and the like), in order. */
  list (node: SyntaxNode, listName: string, itemName: string): SyntaxNode[] {
    const out: SyntaxNode[] = []
    for (const c of this.kids(node)) {
      if (c.name === listName) out.push(...this.list(c, listName, itemName))
      else if (c.name === itemName) out.push(c)
    }
    return out
  }

  lineFilter (node: SyntaxNode): LineFilter {
    const filter = this.one(node, 'Filter')
    const opNode = filter.firstChild
    const op = opNode === null ? undefined : LINE_OPS[opNode.name]
    if (op === undefined || opNode === null) throw this.unsupported(opNode ?? node)
    const fop = node.getChild('FilterOp')
    const ip = fop !== null && fop.firstChild?.name === 'Ip'
    if (fop !== null && !ip) throw this.unsupported(fop)
    if (ip && op !== '|=' && op !== '!=') throw bad(`ip() line filters take |= or != (at "${this.of(node)}")`)
    const values: string[] = []
    const collect = (n: SyntaxNode): void => {
      for (const c of this.kids(n)) {
        if (c.name === 'String') values.push(this.string(c))
        else if (c.name === 'OrFilter') collect(c)
      }
    }
    collect(node)
    if (values.length === 0) throw this.unsupported(node)
    if (ip) {
      for (const v of values) ipMatcher(v) // refuses a bad pattern now, with a 400
      return { op, values, ip: true }
    }
    return { op, values }
  }

  labelExpr (node: SyntaxNode): LabelExpr {
    const kids = this.kids(node)
    const exprs = kids.filter((c) => c.name === 'LabelFilter')
    if (exprs.length === 0) {
      const first = kids[0]
      if (first?.name === 'NumberFilter' || first?.name === 'UnitFilter') return { kind: 'compare', comparison: this.comparison(first) }
      if (first?.name === 'IpLabelFilter') return this.ipLabelFilter(first)
      if (first?.name !== 'Matcher') throw this.unsupported(first ?? node)
      return { kind: 'match', matcher: this.matcher(first) }
    }
    if (exprs.length === 1) return this.labelExpr(exprs[0]!)
    const kind = kids.some((c) => c.name === 'Or') ? 'or' : 'and'
    return { kind, left: this.labelExpr(exprs[0]!), right: this.labelExpr(exprs[1]!) }
  }

  /** `addr = ip("10.0.0.0/8")` / `addr != ip(…)`. */
  ipLabelFilter (node: SyntaxNode): LabelExpr {
    const name = node.getChild('Identifier')
    const pattern = node.getChild('String')
    const negate = node.getChild('Neq') !== null
    if (name === null || pattern === null || (!negate && node.getChild('Eq') === null)) throw this.unsupported(node)
    const text = this.string(pattern)
    ipMatcher(text)
    return { kind: 'ip', name: this.of(name), negate, pattern: text }
  }

  /** `status >= 500`, `latency > 250ms`, `size < 2KiB` (NumberFilter, or UnitFilter's DurationFilter / BytesFilter). */
  comparison (node: SyntaxNode): LabelComparison {
    const filter = node.name === 'UnitFilter' ? node.firstChild : node
    const [ident, opNode, valueNode] = filter === null ? [] : this.kids(filter)
    if (ident?.name !== 'Identifier' || opNode === undefined || valueNode === undefined) throw this.unsupported(node)
    const op = COMPARE_OPS[opNode.name]
    if (op === undefined) throw bad(`the label filter operator "${this.of(opNode)}" is not one of ==, !=, >, >=, <, <= (at "${this.of(node)}")`)
    const text = this.of(valueNode)
    let unit: LabelComparison['unit']
    let value: number | null
    if (filter!.name === 'DurationFilter') {
      unit = 'duration'
      value = goDurationNs(text)
    } else if (filter!.name === 'BytesFilter') {
      unit = 'bytes'
      value = humanBytes(text)
    } else {
      unit = 'number'
      value = goFloat(text.replace(/\s+/g, ''))
    }
    if (value === null) throw bad(`"${text}" is not a ${unit === 'number' ? 'number' : unit === 'duration' ? 'duration such as 250ms' : 'size such as 2KiB'} (at "${this.of(node)}")`)
    return { name: this.of(ident), op, value, unit }
  }

  names (node: SyntaxNode, listName: string, itemName: string): string[] {
    return this.list(node, listName, itemName).map((item) => {
      const first = item.firstChild
      if (first?.name !== 'Identifier') throw bad(`drop and keep take label names only (at "${this.of(item)}")`)
      return this.of(first)
    })
  }

  /** A log query: a LogExpr, or the LogRangeExpr inside a range aggregation. */
  logQuery (node: SyntaxNode): LogQuery {
    const selectorNode = this.one(node, 'Selector')
    const selector = this.list(this.one(selectorNode, 'Matchers'), 'Matchers', 'Matcher').map((m) => this.matcher(m))
    if (!selector.some((m) => !matchesEmpty(m))) {
      throw bad('the stream selector needs at least one matcher that does not match the empty value, such as {service="api"} (as Loki requires)')
    }
    const query: LogQuery = { kind: 'log', selection: { selector, lines: [], labels: [] }, labelStages: [] }
    const pipeline = node.getChild('PipelineExpr')
    const stages = pipeline === null ? [] : this.list(pipeline, 'PipelineExpr', 'PipelineStage')
    for (const stage of stages) {
      for (const c of this.kids(stage)) {
        if (c.name === 'Pipe') continue
        if (c.name === 'LineFilters') {
          for (const f of this.list(c, 'LineFilters', 'LineFilter')) query.selection.lines.push(this.lineFilter(f))
        } else if (c.name === 'LabelParser' || c.name === 'LogfmtParser') {
          const kind = c.firstChild?.name
          const parser = kind === 'Json' ? 'json' : kind === 'Logfmt' && c.firstChild?.nextSibling === null ? 'logfmt' : null
          if (parser === null) throw this.unsupported(c)
          if (query.selection.parser !== undefined) throw bad('one parser stage (| json or | logfmt) per query is supported')
          query.selection.parser = parser
        } else if (c.name === 'LabelFilter') {
          if (query.labelStages.length > 0) throw bad('label filters after drop or keep are not supported; filter first')
          query.selection.labels.push(this.labelExpr(c))
        } else if (c.name === 'LineFormatExpr') {
          const template = this.string(this.one(c, 'String'))
          // Field references alone ({{.name}}); Go's template functions and pipelines are not run.
          const rest = template.replace(/\{\{\s*\.[a-zA-Z_][a-zA-Z0-9_]*\s*\}\}/g, '')
          if (rest.includes('{{')) throw bad(`| line_format takes field references such as {{.status}} only; got ${JSON.stringify(template.slice(0, 60))}`)
          if (query.lineFormat !== undefined) throw bad('one | line_format per query is supported')
          query.lineFormat = template
        } else if (c.name === 'DropLabelsExpr') {
          query.labelStages.push({ kind: 'drop', names: this.names(this.one(c, 'DropLabels'), 'DropLabels', 'DropLabel') })
        } else if (c.name === 'KeepLabelsExpr') {
          query.labelStages.push({ kind: 'keep', names: this.names(this.one(c, 'KeepLabels'), 'KeepLabels', 'KeepLabel') })
        } else {
          throw this.unsupported(c)
        }
      }
    }
    return query
  }

  metric (node: SyntaxNode): MetricExpr {
    switch (node.name) {
      case 'Expr':
      case 'MetricExpr': {
        const kids = this.kids(node)
        if (kids.length !== 1) throw this.unsupported(node)
        return this.metric(kids[0]!)
      }
      case 'LiteralExpr': {
        const negative = node.getChild('Sub') !== null
        const value = Number(this.of(this.one(node, 'Number')))
        return { kind: 'number', value: negative ? -value : value, vector: false }
      }
      case 'VectorExpr':
        return { kind: 'number', value: Number(this.of(this.one(node, 'Number'))), vector: true }
      case 'BinOpExpr':
        return this.arithmetic(node)
      case 'RangeAggregationExpr':
        return this.rangeAggregation(node)
      case 'VectorAggregationExpr':
        return this.vectorAggregation(node)
      case 'LabelReplaceExpr':
        return this.labelReplace(node)
      default:
        throw this.unsupported(node)
    }
  }

  /**
   * A chain of binary operations, re-associated with PromQL's precedence
   * (^ first and from the right, then * / %, then + -, then the comparisons,
   * then and / unless, then or, each from the left): the editor grammar nests
   * them in text order, so its tree is flattened into operands and operators
   * up to parentheses, then regrouped.
   */
  arithmetic (node: SyntaxNode): MetricExpr {
    const operands: SyntaxNode[] = []
    const ops: Array<{ op: BinaryOp, bool: boolean, at: SyntaxNode }> = []
    const flatten = (n: SyntaxNode): void => {
      if (n.name === 'BinOpExpr') {
        const [left, op, modifier, right] = this.kids(n)
        if (left === undefined || op === undefined || right === undefined) throw this.unsupported(n)
        const binary = ARITHMETIC[op.name] ?? COMPARE_OPS[op.name] ?? SET_OPS[op.name]
        if (binary === undefined) throw bad(`the operator "${this.of(op)}" is not supported; arithmetic (+ - * / % ^), comparisons (== != > >= < <=) and and / or / unless are`)
        let bool = false
        if (modifier !== undefined && modifier.name === 'BinOpModifier' && modifier.to > modifier.from) {
          const parts = this.kids(modifier)
          if (parts.length !== 1 || parts[0]!.name !== 'Bool') throw bad(`on(), ignoring() and group_left/right are not supported by this server (at "${this.of(modifier)}"); series match on all their labels`)
          if (COMPARE_OPS[op.name] === undefined) throw bad(`bool is for comparisons (== != > >= < <=), not "${this.of(op)}"`)
          bool = true
        }
        flatten(left)
        ops.push({ op: binary, bool, at: n })
        flatten(right)
        return
      }
      const only = n.firstChild
      // Expr and MetricExpr wrap one node; a wrapper wider than its child is a pair of parentheses.
      if ((n.name === 'Expr' || n.name === 'MetricExpr') && only !== null && only.nextSibling === null && only.from === n.from && only.to === n.to) flatten(only)
      else operands.push(n)
    }
    flatten(node)
    let at = 0
    const climb = (min: number): MetricExpr => {
      let left = this.metric(operands[at]!)
      while (at < ops.length && PRECEDENCE[ops[at]!.op] >= min) {
        const { op, bool, at: where } = ops[at]!
        at++
        // ^ is right-associative: its right side may hold another ^.
        const right = climb(op === '^' ? PRECEDENCE[op] : PRECEDENCE[op] + 1)
        if (op in SET_OP_NAMES && ((left.kind === 'number' && !left.vector) || (right.kind === 'number' && !right.vector))) {
          throw bad(`${op} takes a vector on both sides, not a number (at "${this.of(where).slice(0, 60)}")`)
        }
        left = bool ? { kind: 'binary', op, left, right, bool: true } : { kind: 'binary', op, left, right }
      }
      return left
    }
    return climb(1)
  }

  rangeAggregation (node: SyntaxNode): MetricExpr {
    const opNode = this.one(node, 'RangeOp').firstChild
    const op = opNode === null ? undefined : rangeFunctionAt(opNode.name)?.name as RangeOp | undefined
    if (op === undefined || opNode === null) {
      throw bad(`${opNode === null ? 'this range aggregation' : this.of(opNode)} is not supported; ${RANGE_FUNCTION_NAMES} are`)
    }
    const fn = rangeFunction(op)
    const unwrapped = fn.sample === 'unwrap'
    let grouping: Grouping | undefined
    let param: number | undefined
    for (const c of this.kids(node)) {
      if (c.name === 'Grouping') {
        // Loki's rule: a grouping of its own only where the function is not a sum of the group's.
        if (!unwrapped || op === 'sum_over_time') throw bad(`${op} takes no by or without of its own; put it in an aggregation, such as sum by (x) (${op}(…))`)
        grouping = this.grouping(c)
      } else if (c.name === 'Number') {
        if (op !== 'quantile_over_time') throw this.unsupported(c)
        param = Number(this.of(c))
      }
    }
    if (op === 'quantile_over_time' && (param === undefined || Number.isNaN(param))) throw bad('quantile_over_time takes φ first, such as quantile_over_time(0.99, …)')
    const range = this.one(node, 'LogRangeExpr')
    let rangeUs = NaN
    let offsetUs = 0
    let unwrap: Unwrap | undefined
    const after: LabelExpr[] = []
    for (const c of this.kids(range)) {
      if (c.name === 'Range') rangeUs = durationUs(this.of(this.one(c, 'Duration')))
      else if (c.name === 'OffsetExpr') offsetUs = this.offset(c)
      else if (c.name === 'UnwrapExpr') unwrap = this.unwrap(c, after)
    }
    if (!(rangeUs > 0)) throw bad(`the range of ${op} must be a positive duration such as [5m]`)
    if (unwrapped && unwrap === undefined) throw bad(`${op} takes the values of a label: add | unwrap <label> before the range, such as ${op}({service="api"} | logfmt | unwrap latency [5m])`)
    if (!unwrapped && unwrap !== undefined) throw bad(`${op} counts entries and takes no | unwrap; sum_over_time, avg_over_time, min_over_time, max_over_time, stddev_over_time, stdvar_over_time, quantile_over_time, first_over_time and last_over_time take one`)
    const log = this.logQuery(range)
    // Label filters after the unwrap select entries as those before it do (a value that does not convert is left out; see unwrap()).
    log.selection.labels.push(...after)
    const expr: MetricExpr = { kind: 'range', op, log, rangeUs }
    if (offsetUs !== 0) expr.offsetUs = offsetUs
    if (unwrap !== undefined) expr.unwrap = unwrap
    if (param !== undefined) expr.param = param
    if (grouping !== undefined) expr.grouping = grouping
    return expr
  }

  grouping (c: SyntaxNode): Grouping {
    const mode = c.getChild('By') !== null ? 'by' : 'without'
    const labels = c.getChild('Labels')
    return { mode, labels: labels === null ? [] : this.list(labels, 'Labels', 'Identifier').map((l) => this.of(l)) }
  }

  /**
   * `| unwrap x`, `| unwrap duration(x)`, `| unwrap bytes(x)`, and the label
   * filters after it (into `after`). A value that does not convert is left
   * out of the function (Loki marks its entry __error__="SampleExtractionErr"
   * instead), so the usual `| __error__=""` after an unwrap changes nothing.
   */
  unwrap (node: SyntaxNode, after: LabelExpr[]): Unwrap {
    let inner: Unwrap | null = null
    for (const c of this.kids(node)) {
      if (c.name === 'UnwrapExpr') inner = this.unwrap(c, after)
      else if (c.name === 'LabelFilter') {
        const f = this.labelExpr(c)
        if (f.kind === 'match' && f.matcher.name === '__error__') {
          if (f.matcher.op === '=' && f.matcher.value === '') continue
          throw bad('after | unwrap only | __error__="" is supported among __error__ filters (a value that does not convert is left out)')
        }
        after.push(f)
      }
    }
    if (inner !== null) return inner
    const name = node.getChild('Identifier')
    if (name === null) throw this.unsupported(node)
    const conv = node.getChild('ConvOp')?.firstChild?.name
    const conversion: Conversion | undefined = conv === undefined ? 'number' : conv === 'BytesConv' ? 'bytes' : conv === 'DurationConv' || conv === 'DurationSecondsConv' ? 'duration' : undefined
    if (conversion === undefined) throw this.unsupported(node)
    return { name: this.of(name), conversion }
  }

  /** `offset 5m` or `offset -5m`, in µs. */
  offset (node: SyntaxNode): number {
    const text = this.of(node).replace(/^offset\s*/, '')
    const negative = text.startsWith('-')
    const us = durationUs(text.replace(/^[-+]\s*/, ''))
    if (!(us >= 0)) throw bad(`offset takes a duration such as 5m (at "${this.of(node)}")`)
    return negative ? -us : us
  }

  /** label_replace(expr, "dst", "replacement", "src", "regex"). */
  labelReplace (node: SyntaxNode): MetricExpr {
    const inner = node.getChild('MetricExpr')
    const strings = this.kids(node).filter((c) => c.name === 'String').map((c) => this.string(c))
    if (inner === null || strings.length !== 4) throw this.unsupported(node)
    const [dst, replacement, src, regex] = strings as [string, string, string, string]
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(dst)) throw bad(`label_replace: ${JSON.stringify(dst)} is not a label name`)
    compileRegex(`^(?:${regex})$`)
    return { kind: 'label_replace', inner: this.metric(inner), dst, replacement, src, regex }
  }

  vectorAggregation (node: SyntaxNode): MetricExpr {
    const opNode = this.one(node, 'VectorOp').firstChild
    const op = opNode === null ? undefined : VECTOR_OPS[opNode.name]
    if (op === undefined || opNode === null) {
      throw bad(`${opNode === null ? 'this aggregation' : this.of(opNode)} is not supported; sum, count, min, max, avg, stddev, stdvar, topk, bottomk, sort and sort_desc are`)
    }
    let grouping: Grouping | null = null
    let param: number | null = null
    let inner: MetricExpr | null = null
    for (const c of this.kids(node)) {
      if (c.name === 'Grouping') {
        grouping = this.grouping(c)
      } else if (c.name === 'Number') {
        param = Number(this.of(c))
      } else if (c.name === 'MetricExpr') {
        inner = this.metric(c)
      }
    }
    if (inner === null) throw this.unsupported(node)
    const ranked = op === 'topk' || op === 'bottomk'
    if (ranked && (param === null || !Number.isInteger(param) || param < 1)) throw bad(`${op} takes a whole number of series first, such as ${op}(5, ...)`)
    if (!ranked && param !== null) throw bad(`${op} takes no parameter, only the expression it aggregates (at "${this.of(node).slice(0, 60)}")`)
    if ((op === 'sort' || op === 'sort_desc') && grouping !== null) throw bad(`${op} takes no by or without (at "${this.of(node).slice(0, 60)}")`)
    return { kind: 'aggregate', op, grouping, param: ranked ? param : null, inner }
  }
}

/** Whether a matcher accepts a label that is absent (the empty value): Loki wants at least one that does not. */
export function matchesEmpty (m: LabelMatcher): boolean {
  return labelPredicate(m)('')
}

/** Parses `text`; BadQueryError (400) names what is wrong or not supported. */
export function parseLogql (text: string): Query {
  if (text.trim() === '') throw bad('the query is empty; give a LogQL query such as {service="api"} |= "error"')
  if (text.length > MAX_QUERY_LENGTH) throw bad(`the query is longer than ${MAX_QUERY_LENGTH} characters`)
  const tree = parser.parse(text)
  let error: SyntaxNode | null = null
  tree.iterate({
    enter: (n) => {
      if (n.type.isError && error === null) error = n.node
      return error === null
    }
  })
  if (error !== null) {
    const at = (error as SyntaxNode).from
    throw bad(`syntax error at character ${at + 1} of the query, near "${text.slice(Math.max(0, at - 20), at + 20)}"`)
  }
  const w = new Walker(text)
  const expr = tree.topNode.getChild('Expr')
  const inner = expr?.firstChild
  if (expr === null || inner === null || inner === undefined) throw bad('the query is not a LogQL expression')
  if (inner.name === 'LogExpr') return w.logQuery(inner)
  return { kind: 'metric', expr: w.metric(expr) }
}
