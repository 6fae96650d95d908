import { existsSync, readFileSync, writeFileSync } from 'node:fs'

// The figures of the benchmarks that run on their own (bench:disk, the
// explorer's load time) live in bench/RESULTS.md between markers of their
// own, so the main suite (which rewrites that file) keeps them, and each of
// those benchmarks replaces only its own part.

/** The separate benchmarks and the command each names in its markers. */
const COMMANDS = { disk: 'npm run bench:disk', explorer: 'node dist/bench/explorer.js' } as const
export type SectionName = keyof typeof COMMANDS

const start = (name: SectionName): string => `<!-- bench:${name} start: written by \`${COMMANDS[name]}\`; rerun it rather than editing -->`
const end = (name: SectionName): string => `<!-- bench:${name} end -->`

/** The `name` section of `text`, markers included, or '' when there is none. */
export function section (text: string, name: SectionName): string {
  const from = text.indexOf(start(name))
  const to = text.indexOf(end(name))
  return from === -1 || to < from ? '' : text.slice(from, to + end(name).length)
}

/** Every separate benchmark's section of `text`, in a fixed order, joined by blank lines ('' when none). */
export function separateSections (text: string): string {
  return (Object.keys(COMMANDS) as SectionName[]).map((n) => section(text, n)).filter((s) => s !== '').join('\n\n')
}

/** Puts `body` in `path` as its `name` section: in place of the old one, or at the end. */
export function writeSection (path: string, name: SectionName, body: string): void {
  const wrapped = `${start(name)}\n${body.trim()}\n${end(name)}`
  const text = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const old = section(text, name)
  writeFileSync(path, old === '' ? `${text.trimEnd()}\n\n${wrapped}\n` : text.replace(old, wrapped))
}
