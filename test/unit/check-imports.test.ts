import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

// scripts/check-imports.mjs, which `npm run lint` runs over src/: folders
// import one way, and src/core/ imports no other folder.

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'check-imports.mjs')
const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

/** A source tree from {path: text}; returns its root. */
function tree (files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-imports-'))
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const run = (root: string): { status: number | null, out: string } => {
  const r = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

describe('check-imports', () => {
  it('passes on this repository’s src/', () => {
    const r = run(join(import.meta.dirname, '..', '..', 'src'))
    expect(r.out).toContain('import one way')
    expect(r.status).toBe(0)
  })

  it('passes a tree whose folders import one way', () => {
    const r = run(tree({
      'core/a.ts': 'export const a = 1\n',
      'store/b.ts': "import { a } from '../core/a.js'\nexport const b = a\n",
      'http/c.ts': "import { b } from '../store/b.js'\nimport { a } from '../core/a.js'\nexport const c = a + b\n"
    }))
    expect(r.status).toBe(0)
  })

  it('finds two folders importing each other, type-only imports included', () => {
    const r = run(tree({
      'store/a.ts': "import type { B } from '../shards/b.js'\nexport type A = B\n",
      'shards/b.ts': "import { a } from '../store/a.js'\nexport type B = number\n"
    }))
    expect(r.status).toBe(1)
    expect(r.out).toContain('shards <-> store')
  })

  it('finds a loop through three folders', () => {
    const r = run(tree({
      'a/x.ts': "export { y } from '../b/y.js'\n",
      'b/y.ts': "import('../c/z.js')\nexport const y = 1\n",
      'c/z.ts': "import '../a/x.js'\n"
    }))
    expect(r.status).toBe(1)
    expect(r.out).toContain('a loop through a, b, c')
  })

  it('finds the ground floor importing a folder above it', () => {
    const r = run(tree({
      'core/hash.ts': "import type { X } from '../store/x.js'\nexport type H = X\n",
      'store/x.ts': 'export type X = number\n'
    }))
    expect(r.status).toBe(1)
    expect(r.out).toContain('core imports store')
  })
})
