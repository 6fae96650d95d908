// Loki's protobuf push carries each stream's labels as one Prometheus label
// string, `{app="api", env="prod"}`: names are identifiers, values are Go
// double-quoted strings (\" \\ \n \t and other escapes). This parses it into
// flat pairs, or says what is wrong.

import type { Pairs } from '../record.js'

const NAME = /[a-zA-Z_][a-zA-Z0-9_.]*/y
const SPACE = /[ \t\r\n]*/y

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' }

/** Parses `{k="v", ...}` into [k0, v0, k1, v1, ...] in the order written; a string when it is not one. */
export function parseLabelString (text: string): Pairs | string {
  let at = 0
  const skip = (): void => { SPACE.lastIndex = at; SPACE.exec(text); at = SPACE.lastIndex }
  const fail = (what: string): string => `labels ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)} are not a label set like {app="api"}: ${what} at offset ${at}`
  skip()
  if (text[at] !== '{') return fail('expected {')
  at++
  const pairs: Pairs = []
  skip()
  if (text[at] === '}') {
    at++
    skip()
    return at === text.length ? pairs : fail('unexpected text after }')
  }
  for (;;) {
    skip()
    NAME.lastIndex = at
    const name = NAME.exec(text)
    if (name === null) return fail('expected a label name')
    at = NAME.lastIndex
    skip()
    if (text[at] !== '=') return fail('expected =')
    at++
    skip()
    if (text[at] !== '"') return fail('expected a double-quoted value')
    at++
    let value = ''
    let start = at
    for (;;) {
      if (at >= text.length) return fail('unterminated value')
      const c = text[at]!
      if (c === '"') break
      if (c === '\\') {
        value += text.slice(start, at)
        const e = text[at + 1]
        if (e === undefined) return fail('unterminated value')
        if (e === 'u' || e === 'x') {
          const len = e === 'u' ? 4 : 2
          const hex = text.slice(at + 2, at + 2 + len)
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return fail('bad escape')
          value += String.fromCharCode(parseInt(hex, 16))
          at += 2 + len
        } else {
          const to = ESCAPES[e]
          if (to === undefined) return fail(`unknown escape \\${e}`)
          value += to
          at += 2
        }
        start = at
        continue
      }
      at++
    }
    value += text.slice(start, at)
    at++
    pairs.push(name[0], value)
    skip()
    if (text[at] === ',') {
      at++
      skip()
      if (text[at] === '}') break
      continue
    }
    if (text[at] === '}') break
    return fail('expected , or }')
  }
  at++
  skip()
  return at === text.length ? pairs : fail('unexpected text after }')
}
