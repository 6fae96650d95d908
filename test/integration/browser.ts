import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { program } from '../programs.js'

// The explorer's browser tests drive Debian's chromium (scripts/setup.sh
// installs it) through playwright-core: never a browser download. Headless,
// a fresh profile per run (playwright's launch makes a new temporary
// --user-data-dir and deletes it on close), nothing of its own fetched from the network.

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'explorer')

export interface Session {
  browser: Browser
  /** Console errors, page errors and CSP violations seen so far; every test expects none. */
  problems: string[]
  /** A fresh context (its own storage) and page at 1280×720, or the size given. */
  page (options?: { width?: number, height?: number, dark?: boolean, timezoneId?: string }): Promise<{ context: BrowserContext, page: Page }>
  close (): Promise<void>
}

export async function launch (): Promise<Session> {
  const executablePath = program('chromium', 'chromium')
  mkdirSync(ARTIFACTS, { recursive: true })
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  const problems: string[] = []
  return {
    browser,
    problems,
    async page (options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1280, height: options.height ?? 720 },
        colorScheme: options.dark === true ? 'dark' : 'light',
        acceptDownloads: true,
        ...(options.timezoneId === undefined ? {} : { timezoneId: options.timezoneId })
      })
      // Fail in seconds, naming the step, rather than at the test's time-out.
      context.setDefaultTimeout(5000)
      const page = await context.newPage()
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`) })
      page.on('pageerror', (e) => { problems.push(`page error: ${e.message}`) })
      return { context, page }
    },
    async close () {
      await browser.close()
    }
  }
}
