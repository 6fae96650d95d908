// The explorer's load-time budget on a 1,000,000-entry store: logagg is
// preloaded as for the query scenarios (bench corpus, 50 services over 49
// minutes), then Debian's chromium (playwright-core, headless, a fresh
// context each time) opens shared URLs of the explorer and reads the page's
// own User Timing marks, from navigation start: `logagg:first-rows` (the
// first rows on screen) and `logagg:histogram` (the volume histogram drawn).
// Medians of ROUNDS page loads per URL; the section goes into bench/RESULTS.md.
//
// Run: npm run build && node dist/bench/explorer.js [entries, default 1000000]
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { BENCH_DIR } from './outputs.js'
import { planLayout, preload } from './preload.js'
import { startTarget } from './server-fixture.js'
import { writeSection } from './sections.js'

const ENTRIES = Number(process.argv[2] ?? 1_000_000)
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const CHROMIUM = '/usr/bin/chromium'
const TIMEOUT_MS = 30_000

const URLS: ReadonlyArray<{ name: string, query: Record<string, string> }> = [
  { name: 'one service, last hour', query: { q: '{service="svc-07"}', from: 'now-1h', to: 'now' } },
  { name: 'one service and a line filter, last hour', query: { q: '{service="svc-07"} |= "orders"', from: 'now-1h', to: 'now' } },
  { name: 'every service, last hour', query: { q: '{service=~".+"}', from: 'now-1h', to: 'now' } },
  { name: 'every service, last 15 minutes', query: { q: '{service=~".+"}', from: 'now-15m', to: 'now' } }
]

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

if (!existsSync(CHROMIUM)) {
  console.error(`bench/explorer: ${CHROMIUM} is missing (bash scripts/setup.sh installs Debian's chromium)`)
  process.exit(2)
}
const server = await startTarget('logagg')
const layout = planLayout(ENTRIES, 42, 'bench', true)
const loaded = await preload(server.url, layout)
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
})
const lines: string[] = []
try {
  const rows: string[][] = []
  for (const { name, query } of URLS) {
    const firstRows: number[] = []
    const histogram: number[] = []
    for (let round = 0; round <= ROUNDS; round++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 720 } })
      const page = await context.newPage()
      await page.goto(`${server.url}/?${new URLSearchParams(query).toString()}`, { timeout: TIMEOUT_MS })
      // A mark the page has not reached within TIMEOUT_MS counts as that long (and shows as "> …" below).
      const marks = await page.waitForFunction(() => {
        const at = (n: string): number | undefined => performance.getEntriesByName(n)[0]?.startTime
        const rows = at('logagg:first-rows')
        const bars = at('logagg:histogram')
        return rows !== undefined && bars !== undefined ? { rows, bars } : null
      }, undefined, { timeout: TIMEOUT_MS, polling: 20 }).then((h) => h.jsonValue(), async () => {
        const rows = await page.evaluate(() => performance.getEntriesByName('logagg:first-rows')[0]?.startTime)
        return { rows: rows ?? TIMEOUT_MS, bars: TIMEOUT_MS }
      })
      await context.close()
      if (marks === null) throw new Error(`${name}: the page never marked its first rows and histogram`)
      process.stderr.write(`bench/explorer: ${name}, load ${round}: first rows ${marks.rows.toFixed(0)} ms, histogram ${marks.bars.toFixed(0)} ms\n`)
      if (round === 0) continue // the first load warms the server's caches and chromium's
      firstRows.push(marks.rows)
      histogram.push(marks.bars)
    }
    const ms = (v: number): string => v >= TIMEOUT_MS ? `> ${TIMEOUT_MS}` : v.toFixed(0)
    rows.push([name, `\`${query.q!.replaceAll('|', '\\|')}\` ${query.from!}`, ms(median(firstRows)), ms(Math.max(...firstRows)), ms(median(histogram)), ms(Math.max(...histogram))])
  }
  lines.push(
    `**Explorer load time** (\`node dist/bench/explorer.js\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC): ` +
      `logagg preloaded with ${ENTRIES.toLocaleString('en')} bench entries (${loaded.seconds.toFixed(1)} s), Debian's chromium headless on the same machine, ` +
      `a fresh context per load; ms from navigation start to the page's marks, median and max of ${ROUNDS} loads after one warm-up. Budget: first rows ≤ 300 ms, histogram ≤ 500 ms.`,
    '',
    '| URL | query | first rows p50 | first rows max | histogram p50 | histogram max |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.join(' | ')} |`)
  )
} finally {
  await browser.close()
}
const text = lines.join('\n')
console.log(text)
writeSection(join(BENCH_DIR, 'RESULTS.md'), 'explorer', text)
process.exit(0)
