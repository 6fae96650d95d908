import { existsSync, readFileSync, writeFileSync } from 'node:fs'

// bench:disk's figures live in bench/RESULTS.md between two markers, so the
// main suite (which rewrites that file) keeps them, and bench:disk replaces
// only its own part.

const START = '<!-- bench:disk start: written by `npm run bench:disk`; rerun it rather than editing -->'
const END = '<!-- bench:disk end -->'

/** The bench:disk section of `text`, markers included, or '' when there is none. */
export function diskSection (text: string): string {
  const from = text.indexOf(START)
  const to = text.indexOf(END)
  return from === -1 || to < from ? '' : text.slice(from, to + END.length)
}

/** Puts `body` in `path` as its bench:disk section: in place of the old one, or at the end. */
export function writeDiskSection (path: string, body: string): void {
  const section = `${START}\n${body.trim()}\n${END}`
  const text = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const old = diskSection(text)
  writeFileSync(path, old === '' ? `${text.trimEnd()}\n\n${section}\n` : text.replace(old, section))
}
