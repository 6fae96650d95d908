import { viewLabel } from './entry-labels.js'
import { jsonEscape, jsonUnescape } from '../core/json-text.js'
import type { CompiledSelection } from '../logql/match.js'
import type { BlockView } from './block.js'
import type { Stream } from './stream.js'

// What an entry must satisfy to be returned: a substring of its message
// and attribute equalities (each met by the entry's attributes or by its
// stream's labels). Messages and attribute strings are stored JSON-escaped,
// so the filter compares escaped forms, which are equal exactly when the
// texts are, and decodes a message only when it holds an escape.

export interface AttrMatch { key: string, value: string }

export interface EntryFilter {
  matches (stream: Stream, v: BlockView, i: number): boolean
}

export const MATCH_ALL: EntryFilter = {
  matches: () => true
}

/**
 * A LogQL selection's entry filter (line filters, label filters) after
 * `base`: the line is decoded from its escaped bytes, and a label is looked
 * up in the stream's labels (service included) and then the entry's
 * attributes, decoded only when asked for.
 */
export function selectionFilter (base: EntryFilter, entry: NonNullable<CompiledSelection['entry']>): EntryFilter {
  let stream: Stream | null = null
  let view: BlockView | null = null
  let at = 0
  const label = (name: string): string => viewLabel(stream!, view!, at, name)
  return {
    matches (s, v, i) {
      if (!base.matches(s, v, i)) return false
      stream = s
      view = v
      at = i
      return entry(jsonUnescape(v.msg, v.msgStart[i]!, v.msgEnd[i]!), label)
    }
  }
}

interface Needle { key: string, value: string, keyEsc: string, valueEsc: string }

export function entryFilter (contains: string | null, attrs: readonly AttrMatch[]): EntryFilter {
  if (contains === null && attrs.length === 0) return MATCH_ALL
  const needle = contains === null ? null : Buffer.from(jsonEscape(contains))
  const needles: Needle[] = attrs.map((a) => ({ ...a, keyEsc: jsonEscape(a.key), valueEsc: jsonEscape(a.value) }))

  // Dictionary ids of each needle's key and value in the last block seen (-1: absent).
  let lastView: BlockView | null = null
  let ids: Int32Array = new Int32Array(needles.length * 2)
  const idsFor = (v: BlockView): Int32Array => {
    if (v === lastView) return ids
    lastView = v
    ids = new Int32Array(needles.length * 2).fill(-1)
    if (v.dict.length > 0) {
      const at = new Map<string, number>()
      v.dict.forEach((s, k) => at.set(s, k))
      needles.forEach((n, k) => {
        ids[2 * k] = at.get(n.keyEsc) ?? -1
        ids[2 * k + 1] = at.get(n.valueEsc) ?? -1
      })
    }
    return ids
  }

  const hasAttr = (v: BlockView, i: number, keyId: number, valueId: number): boolean => {
    if (v.attrEnd === null || keyId < 0 || valueId < 0) return false
    for (let p = i === 0 ? 0 : v.attrEnd[i - 1]!; p < v.attrEnd[i]!; p++) {
      if (v.attrKey[p] === keyId && v.attrVal[p] === valueId) return true
    }
    return false
  }

  return {
    matches (stream, v, i) {
      if (needles.length > 0) {
        const found = idsFor(v)
        for (let k = 0; k < needles.length; k++) {
          const n = needles[k]!
          if (stream.labels.length > 0 && stream.label(n.key) === n.value) continue
          if (!hasAttr(v, i, found[2 * k]!, found[2 * k + 1]!)) return false
        }
      }
      if (needle !== null) {
        const from = v.msgStart[i]!
        const to = v.msgEnd[i]!
        const text = v.msg.subarray(from, to)
        // Escaping is per character, so a match in the text is a match in the escaped bytes.
        if (text.indexOf(needle) < 0) return false
        // A match may start inside an escape (the "n" of "\n"): check the text itself when there is any escape.
        if (text.indexOf(92) >= 0) return jsonUnescape(v.msg, from, to).includes(contains!)
      }
      return true
    }
  }
}
