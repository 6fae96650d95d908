#!/usr/bin/env node
// Lists each pair of folders under src/ that import each other (src/a/* imports
// src/b/* and src/b/* imports src/a/*) and exits 1 if there is any. A folder is
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

const cycles = []
for (const [a, out] of edges) {
  for (const [b, example] of out) {
    const back = edges.get(b)?.get(a)
    if (back !== undefined && a < b) cycles.push(`${a} <-> ${b}   (${example}; ${back})`)
  }
}
cycles.sort()
if (cycles.length === 0) {
  console.log('check-imports: no two folders under src/ import each other')
} else {
  console.log(`check-imports: ${cycles.length} folder pairs under src/ import each other:`)
  for (const line of cycles) console.log(`  ${line}`)
  process.exitCode = 1
}
