import { execFileSync } from 'node:child_process'

// Tests that drive a real program (rsyslog, logger, Prometheus, curl, Java, Python…) find it
// here first: a missing one fails the test at once, naming the Debian package that brings it,
// never after a time-out and never as a skip. `npm run setup` (scripts/setup.sh, which `npm test`
// runs first) installs every package named here.

const found = new Map<string, string>()

/** The path of `name`, or a failure that says which Debian package to install. */
export function program (name: string, debianPackage: string): string {
  const known = found.get(name)
  if (known !== undefined) return known
  let path = ''
  try {
    path = execFileSync('sh', ['-c', 'command -v "$0"', name], { encoding: 'utf8' }).trim()
  } catch {}
  if (path === '') {
    throw new Error(`${name} is not installed, so this real-client test cannot run: install the Debian package ${debianPackage} (npm run setup does: apt-get install -y ${debianPackage})`)
  }
  found.set(name, path)
  return path
}
