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
// What the functions run in the page (page.evaluate) use of the DOM; this project's node typings have no DOM.
interface Element { scrollTop: number, readonly scrollHeight: number }
declare const document: { querySelector: (selector: string) => { textContent: string | null } | null }
declare function requestAnimationFrame (step: (now: number) => void): number

const SCROLL_QUERY = '{service=~"svc-0[0-4]"}'
const SCROLL_MS = 2000

/** ms between animation frames while `el` scrolls 1200 px a frame for `ms`, from `from` (a share of its height). */
function frameGaps (el: Element, { ms, from }: { ms: number, from: number }): Promise<number[]> {
  return new Promise((resolve) => {
    el.scrollTop = el.scrollHeight * from
    const gaps: number[] = []
    let last = performance.now()
    const until = last + ms
    const step = (now: number): void => {
      gaps.push(now - last)
      last = now
      el.scrollTop += 1200
      if (now < until) requestAnimationFrame(step)
      else resolve(gaps.slice(1))
    }
    requestAnimationFrame(step)
  })
}

const summary = (gaps: number[]): string => {
  const sorted = [...gaps].sort((a, b) => a - b)
  const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!.toFixed(1)
  return `${sorted.length} frames, median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`
}

/** Opens the scroll query, pages 100,000 rows in by scrolling to the end, then measures frames. */
async function scrollFrames (): Promise<{ plain: string, wrap: string }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } })
  try {
    const page = await context.newPage()
    await page.goto(`${server.url}/?${new URLSearchParams({ q: SCROLL_QUERY, from: 'now-1h', to: 'now' }).toString()}`, { timeout: TIMEOUT_MS })
    const status = page.locator('#status')
    await page.waitForFunction(() => /^[\d,]+ lines/.test(document.querySelector('#status')?.textContent ?? ''), undefined, { timeout: TIMEOUT_MS })
    for (let i = 0; i < 60; i++) {
      const text = (await status.textContent()) ?? ''
      if (Number(text.replace(/[^\d].*$/, '').replaceAll(',', '')) >= 100_000 || !/^[\d,]+ lines/.test(text)) break
      await page.locator('#list').evaluate((el) => { el.scrollTop = el.scrollHeight })
      // No next page within 10 s: the query has no more lines.
      const more = await page.waitForFunction((before) => document.querySelector('#status')?.textContent !== before, text, { timeout: 10_000 }).then(() => true, () => false)
      if (!more) break
    }
    process.stderr.write(`bench/explorer: scroll list holds ${(await status.textContent()) ?? ''}\n`)
    const list = page.locator('#list')
    const plain = summary(await list.evaluate(frameGaps, { ms: SCROLL_MS, from: 0 }))
    await page.locator('#wrap').check()
    const wrap = summary(await list.evaluate(frameGaps, { ms: SCROLL_MS / 2, from: 0.5 }))
    return { plain: `${plain} (${(await status.textContent()) ?? ''})`, wrap }
  } finally {
    await context.close()
  }
}

const lines: string[] = []
try {
  const rows: string[][] = []
  for (const { name, query } of URLS) {
    const firstRows: number[] = []
    const histogram: number[] = []
    let cold = { rows: 0, bars: 0 }
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
      if (round === 0) { // the first load warms the server's caches (decoded blocks, line levels) and chromium's
        cold = marks
        continue
      }
      firstRows.push(marks.rows)
      histogram.push(marks.bars)
    }
    const ms = (v: number): string => v >= TIMEOUT_MS ? `> ${TIMEOUT_MS}` : v.toFixed(0)
    rows.push([name, `\`${query.q!.replaceAll('|', '\\|')}\` ${query.from!}`, ms(cold.rows), ms(median(firstRows)), ms(Math.max(...firstRows)), ms(cold.bars), ms(median(histogram)), ms(Math.max(...histogram))])
  }
  const scroll = await scrollFrames()
  lines.push(
    `**Explorer load time** (\`node dist/bench/explorer.js\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC): ` +
      `logagg preloaded with ${ENTRIES.toLocaleString('en')} bench entries (${loaded.seconds.toFixed(1)} s), Debian's chromium headless on the same machine, ` +
      `a fresh context per load; ms from navigation start to the page's marks, median and max of ${ROUNDS} loads after one warm-up. Budget: first rows ≤ 300 ms, histogram ≤ 500 ms.`,
    '',
    '| URL | query | first rows, first load | first rows p50 | first rows max | histogram, first load | histogram p50 | histogram max |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `**Scrolling 100,000 rows** (\`${SCROLL_QUERY}\` over the last hour, paged in by scrolling to the end, then ${SCROLL_MS / 1000} s of requestAnimationFrame steps of 1200 px, 60 rows, from the top; ` +
      `the same with Wrap on, from the middle): frames ${scroll.plain}; with wrap ${scroll.wrap}. Budget: frames under 20 ms.`
  )
} finally {
  await browser.close()
}
const text = lines.join('\n')
console.log(text)
writeSection(join(BENCH_DIR, 'RESULTS.md'), 'explorer', text)
process.exit(0)
