#!/usr/bin/env node
// Lists each pair of folders under src/ that import each other (src/a/* imports
// src/b/* and src/b/* imports src/a/*), any longer loop of folders, and any
// import out of src/core/ (the ground floor), and exits 1 if there is any. A folder is
// the first path segment under src/; the files directly in src/ count as
// folder ".". Type-only imports count too: they tie the folders together just
// the same. Plain Node, no dependency: imports are found with a regular
// expression over the source, which is enough for this code base's
// `import ... from '...'` / `export ... from '...'` / `import('...')` forms.
//
//   node scripts/check-imports.mjs [srcDir]

import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'

const root = resolve(process.argv[2] ?? 'src')
/** The folder everything may import and that imports no other. */
const GROUND = 'core'

/** Every .ts / .mts / .js / .mjs file under dir. */
function sources (dir) {
  const out = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sources(path))
    else if (/\.(m?ts|m?js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** The folder a file under root belongs to: its first segment, or "." for a top-level file. */
function folderOf (file) {
  const rel = relative(root, file)
  if (rel.startsWith('..')) return null
  const parts = rel.split(sep)
  return parts.length === 1 ? '.' : parts[0]
}

const IMPORT = /(?:\bimport|\bexport)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g

/** folder → folder → one example "from.ts → to.ts" */
const edges = new Map()
for (const file of sources(root)) {
  const from = folderOf(file)
  const text = readFileSync(file, 'utf8')
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (spec === undefined || !spec.startsWith('.')) continue
    const target = resolve(dirname(file), spec)
    const to = folderOf(target)
    if (to === null || to === from) continue
    let out = edges.get(from)
    if (out === undefined) edges.set(from, out = new Map())
    if (!out.has(to)) out.set(to, `${relative(root, file)} → ${relative(root, target)}`)
  }
}

const problems = []
for (const [a, out] of edges) {
  for (const [b, example] of out) {
    const back = edges.get(b)?.get(a)
    if (back !== undefined && a < b) problems.push(`${a} <-> ${b}   (${example}; ${back})`)
  }
}
// Longer loops (a → b → c → a) tie folders together just the same: the
// folder graph must have no cycle at all (Tarjan's strongly connected components).
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
let counter = 0
function visit (v) {
  index.set(v, counter); low.set(v, counter); counter++
  stack.push(v); onStack.add(v)
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))) } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
  }
  if (low.get(v) === index.get(v)) {
    const part = []
    let w
    do { w = stack.pop(); onStack.delete(w); part.push(w) } while (w !== v)
    if (part.length > 2) problems.push(`a loop through ${part.sort().join(', ')}`)
  }
}
for (const v of edges.keys()) if (!index.has(v)) visit(v)
// The ground floor (hash, durations, errors, timestamps, JSON text) imports nothing above it.
for (const [to, example] of edges.get(GROUND) ?? []) problems.push(`${GROUND} imports ${to}   (${example})`)

problems.sort()
if (problems.length === 0) {
  console.log(`check-imports: folders under src/ import one way (no loop), and ${GROUND}/ imports no other folder`)
} else {
  console.log(`check-imports: ${problems.length} problems in how folders under src/ import each other:`)
  for (const line of problems) console.log(`  ${line}`)
  process.exitCode = 1
}
