import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launch, type Session } from './browser.js'
import { isoAt, startTestServer, type RunningServer } from './helpers.js'

// The browser's globals, used only inside page.evaluate callbacks (they run in the page).
declare const window: any, performance: any, document: any, localStorage: any, sessionStorage: any, getComputedStyle: any, requestAnimationFrame: any

// Issue 21: the explorer in a real browser (Debian's chromium, headless)
// against the real sharded server, driven as a person would. Every test
// ends with no console error, page error or CSP violation.

let server: RunningServer
let session: Session

beforeAll(async () => {
  ;[server, session] = await Promise.all([startTestServer({ shards: 2 }), launch()])
}, 60_000)
afterAll(async () => {
  await session?.close()
  await server?.close()
})
afterEach(() => {
  const seen = session.problems.splice(0)
  expect(seen).toEqual([])
})

interface Line { service: string, message: string, ago: number, attributes?: Record<string, string> }

async function post (lines: Line[]): Promise<void> {
  const body = lines.map((l) => JSON.stringify({ service: l.service, timestamp: isoAt(-l.ago), message: l.message, ...(l.attributes === undefined ? {} : { attributes: l.attributes }) })).join('\n')
  const res = await fetch(`${server.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
  expect(res.status).toBe(201)
}

const open = (page: Page, params: Record<string, string>): Promise<unknown> => page.goto(`${server.url}/?${new URLSearchParams(params).toString()}`)
const messages = (page: Page): Promise<string[]> => page.locator('#list .row:not([hidden]) .msg').allTextContents()
/** Scrolls the list to its end and returns the status; polled, since the list grows a frame after the status says so. */
const toEnd = async (page: Page): Promise<string | null> => {
  await page.locator('#list').evaluate((el) => { el.scrollTop = el.scrollHeight })
  return await page.locator('#status').textContent()
}
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
/** Network refusals the page shows itself; Chrome also logs each as a console error, which these tests expect. */
const dropRefusals = (status: number): void => {
  const left = session.problems.filter((p) => !p.includes(`status of ${status}`))
  session.problems.splice(0, session.problems.length, ...left)
}

describe('explorer in the browser', () => {
  it('opens a shared URL and shows its rows, volume and fields without a click, within the size budget', async () => {
    await post([
      ...Array.from({ length: 30 }, (_, i) => ({ service: 'shared-api', message: `request ${i} ok`, ago: 60_000 - i * 1000, attributes: { region: i % 3 === 0 ? 'eu' : 'us' } })),
      ...Array.from({ length: 5 }, (_, i) => ({ service: 'shared-api', message: `request ${i} error: timeout`, ago: 30_000 - i * 1000 })),
      { service: 'shared-web', message: 'not this one', ago: 1000 }
    ])
    const { context, page } = await session.page()
    // What the first load puts on the wire: each answer's Content-Length (the server gzips the page's files).
    const sizes = new Map<string, number>()
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname
      if (r.url().startsWith(server.url) && (path === '/' || path.startsWith('/ui/'))) sizes.set(path, Number(r.headers()['content-length'] ?? NaN))
    })
    const started = Date.now()
    await open(page, { q: '{service="shared-api"}', from: 'now-15m', to: 'now' })
    await page.locator('#list .row:not([hidden])').first().waitFor()
    const firstRowsMs = Date.now() - started
    await expect.poll(() => page.locator('#status').textContent()).toBe('35 lines')
    const shown = await messages(page)
    expect(shown[0]).toBe('request 4 error: timeout')
    expect(shown).not.toContain('not this one')
    // The volume, from GET /logs/volume: 5 errors (words in the line), 30 unknown.
    await expect.poll(() => page.locator('#histogram').getAttribute('data-total')).toBe('35')
    expect(await page.locator('#histogram canvas').count()).toBeGreaterThan(0)
    // Fields: region's top values with their counts.
    const region = page.locator('#field-list [data-field="region"]')
    await expect.poll(() => region.locator('.value').allTextContents()).toEqual(['us20', 'eu10'])
    await shot(page, 'shared-url')
    // First load: the page, its scripts and styles, as sent (gzip).
    // Vite's build: the page, one script (Preact, uPlot and the page's code) and one stylesheet.
    expect([...sizes.keys()].map((p) => p.replace(/-[\w-]{8}\./, '-HASH.')).sort()).toEqual(['/', '/ui/assets/index-HASH.css', '/ui/assets/index-HASH.js'])
    expect([...sizes.values()].every((n) => n > 0)).toBe(true)
    const bytes = [...sizes.values()].reduce((a, b) => a + b, 0)
    expect(bytes).toBeLessThan(150 * 1024)
    // From navigation start to the first rows and to the histogram (the page marks both), here on a small store.
    const marks = await page.evaluate(() => Object.fromEntries(['logagg:first-rows', 'logagg:histogram'].map((n) => [n, Math.round(performance.getEntriesByName(n)[0]?.startTime ?? -1)])))
    expect(marks['logagg:first-rows']).toBeGreaterThan(0)
    expect(marks['logagg:histogram']).toBeGreaterThan(0)
    expect(marks['logagg:first-rows']).toBeLessThan(1000)
    expect(marks['logagg:histogram']).toBeLessThan(1500)
    expect(firstRowsMs).toBeLessThan(3000)
    console.log(`explorer first load: ${(bytes / 1024).toFixed(1)} KiB gzip; navigation → first rows ${marks['logagg:first-rows']} ms, → histogram ${marks['logagg:histogram']} ms (${firstRowsMs} ms from goto, a new browser context)`)
    await context.close()
  })

  it('runs a typed query on Enter, adds a line on Shift+Enter, highlights line-filter matches and shows the server\'s error', async () => {
    await post([
      { service: 'typed', message: 'alpha needle one', ago: 5000 },
      { service: 'typed', message: 'beta haystack', ago: 4000 },
      { service: 'typed', message: 'gamma needle two', ago: 3000 }
    ])
    const { context, page } = await session.page()
    await open(page, { q: '{service="typed"}', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toBe('3 lines')
    const q = page.locator('#q')
    await q.fill('{service="typed"}')
    await q.press('End')
    await q.press('Shift+Enter')
    await q.pressSequentially('|= "needle"')
    expect(await q.inputValue()).toBe('{service="typed"}\n|= "needle"')
    await q.press('Escape')
    await q.press('Enter')
    await expect.poll(() => messages(page)).toEqual(['gamma needle two', 'alpha needle one'])
    expect(await page.locator('#list .row mark').allTextContents()).toEqual(['needle', 'needle'])
    expect(new URL(page.url()).searchParams.get('q')).toBe('{service="typed"}\n|= "needle"')
    // A refused query: the server's own message, shown as it says it.
    const bad = '{service="typed"} |= "x" | unpack'
    const answer = await (await fetch(`${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: bad }).toString()}`)).json() as { error: string }
    await q.fill(bad)
    await q.press('Escape')
    await q.press('Enter')
    await expect.poll(() => page.locator('#error-text').textContent()).toBe(answer.error)
    expect(await page.locator('#error-where').textContent()).toContain('^')
    await shot(page, 'query-error')
    dropRefusals(400)
    await context.close()
  })

  it('shows log lines as text: <script>, <img onerror>, javascript: links and ANSI escapes never run or become markup', async () => {
    const evil = [
      '<script>window.__pwned = "script"</script>',
      '<img src=x onerror="window.__pwned = \'img\'">',
      '<a href="javascript:window.__pwned=\'link\'">click me</a>',
      '\u001b[31mred alert\u001b[0m <svg onload="window.__pwned=\'svg\'">',
      '{"msg": "<iframe srcdoc=\\"<script>parent.__pwned=1</script>\\">"}'
    ]
    await post(evil.map((message, i) => ({ service: 'xss', message, ago: 10_000 - i * 1000, attributes: { note: '<b onmouseover="window.__pwned=1">x</b>' } })))
    const { context, page } = await session.page()
    await open(page, { q: '{service="xss"}', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toBe('5 lines')
    const shown = await messages(page)
    expect(shown).toEqual([...evil].reverse().map((m) => m.replaceAll('\u001b', '\u241b')))
    for (let i = 0; i < evil.length; i++) {
      await page.locator('#list .row:not([hidden])').nth(i).click()
      await page.locator('#detail .show-context').click()
      await page.locator('#detail .context-lines li').first().waitFor()
      await page.locator('#list .row:not([hidden])').nth(i).hover()
    }
    for (const tag of ['script', 'img', 'a', 'svg', 'iframe', 'b']) {
      expect(await page.locator(`#list ${tag}, #detail ${tag}, #field-list ${tag}`).count(), tag).toBe(0)
    }
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined()
    // Even a script of the page cannot turn a string into markup: Trusted Types has no policy.
    const refused = await page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__pwned=1">')
        return 'inserted'
      } catch (err) {
        return (err as Error).name
      }
    })
    expect(refused).toBe('TypeError')
    await shot(page, 'xss-as-text')
    session.problems.splice(0, session.problems.length, ...session.problems.filter((p) => !/TrustedHTML|Trusted ?Type/i.test(p)))
    await context.close()
  })

  it('zooms the range by dragging on the histogram and narrows it to a bar by a click; rows follow', async () => {
    await post(Array.from({ length: 60 }, (_, i) => ({ service: 'zoom', message: `tick ${i}`, ago: 600_000 - i * 10_000 })))
    const { context, page } = await session.page()
    await open(page, { q: '{service="zoom"}', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toBe('60 lines')
    const over = page.locator('#histogram .u-over')
    const box = (await over.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2, { steps: 5 })
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await expect.poll(() => page.locator('#from').inputValue()).toMatch(/^\d{4}-\d\d-\d\dT/)
    const from = Date.parse(await page.locator('#from').inputValue())
    const to = Date.parse(await page.locator('#to').inputValue())
    expect(to - from).toBeGreaterThan(60_000)
    expect(to - from).toBeLessThan(300_000)
    expect(new URL(page.url()).searchParams.get('from')).toBe(new Date(from).toISOString())
    await expect.poll(async () => Number((await page.locator('#status').textContent())!.split(' ')[0])).toBeLessThan(60)
    const ticks = await messages(page)
    expect(ticks.length).toBeGreaterThan(3)
    // The rows are the server's for the zoomed range, no more and no fewer.
    const ns = (ms: number): string => `${ms}000000`
    const direct = await (await fetch(`${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{service="zoom"}', start: ns(from), end: ns(to), limit: '1000' }).toString()}`)).json() as { data: { result: Array<{ values: Array<[string, string]> }> } }
    expect(direct.data.result.flatMap((r) => r.values.map((v) => v[1])).sort()).toEqual([...ticks].sort())
    await shot(page, 'zoomed')
    // A click on a bar: the range becomes that bar's bucket.
    const zoomed = (await over.boundingBox())!
    await page.mouse.click(zoomed.x + zoomed.width * 0.5, zoomed.y + zoomed.height - 3)
    await expect.poll(async () => Date.parse(await page.locator('#to').inputValue()) - Date.parse(await page.locator('#from').inputValue())).toBeLessThanOrEqual(10_000)
    await expect.poll(async () => Number((await page.locator('#status').textContent())!.split(' ')[0])).toBeLessThan(ticks.length)
    // Zoom out, by keyboard: twice the range around its middle.
    const narrowFrom = Date.parse(await page.locator('#from').inputValue())
    const narrowTo = Date.parse(await page.locator('#to').inputValue())
    await page.locator('#zoom-out').focus()
    await page.keyboard.press('Enter')
    await expect.poll(async () => Date.parse(await page.locator('#to').inputValue()) - Date.parse(await page.locator('#from').inputValue())).toBe(2 * (narrowTo - narrowFrom))
    expect(Date.parse(await page.locator('#from').inputValue())).toBe(narrowFrom - (narrowTo - narrowFrom) / 2)
    await context.close()
  })

  it('filters from the sidebar and from an expanded row (for and out), and shows a line\'s context in its stream', async () => {
    await post([
      ...Array.from({ length: 20 }, (_, i) => ({ service: 'fields', message: `level=info user=u${i % 2} step ${i}`, ago: 100_000 - i * 1000, attributes: { region: i % 4 === 0 ? 'eu' : 'us', zone: `z${i % 2}`, rack: `r${i % 3}` } })),
      { service: 'fields-other', message: 'other stream', ago: 89_500 }
    ])
    const { context, page } = await session.page()
    await open(page, { q: '{service="fields"}', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toBe('20 lines')
    // Counted at once: the first six; a later one when opened.
    await expect.poll(() => page.locator('#field-list details.field').count()).toBeGreaterThan(6)
    const seventh = page.locator('#field-list details.field').nth(6)
    expect(await seventh.getAttribute('open')).toBeNull()
    await seventh.locator('summary').click()
    await expect.poll(() => seventh.locator('.value').count()).toBeGreaterThan(0)
    await page.locator('#field-list [data-field="region"] .value', { hasText: 'eu' }).click()
    await expect.poll(() => page.locator('#q').inputValue()).toBe('{service="fields"} | region="eu"')
    await expect.poll(() => page.locator('#status').textContent()).toBe('5 lines')
    // From an expanded row: a parsed logfmt field, filter out (the newest line, step 19, has user=u1).
    await page.locator('#q').fill('{service="fields"}')
    await page.locator('#q').press('Enter')
    await expect.poll(() => page.locator('#status').textContent()).toBe('20 lines')
    await page.locator('#list .row:not([hidden])').first().click()
    expect(await page.locator('#detail .line').textContent()).toBe('level=info user=u1 step 19')
    await page.locator('#detail table.parsed tr[data-name="user"] .filter-out').click()
    await expect.poll(() => page.locator('#q').inputValue()).toBe('{service="fields"} | logfmt | user!="u1"')
    await expect.poll(() => page.locator('#status').textContent()).toBe('10 lines')
    expect((await messages(page)).every((m) => m.includes('user=u0'))).toBe(true)
    // Filter for, on an attribute of an expanded row.
    await page.locator('#q').fill('{service="fields"}')
    await page.locator('#q').press('Enter')
    await expect.poll(() => page.locator('#status').textContent()).toBe('20 lines')
    await page.locator('#list .row:not([hidden])').nth(10).click()
    const middle = await page.locator('#detail .line').textContent()
    expect(middle).toBe('level=info user=u1 step 9')
    await page.locator('#detail table.attributes tr[data-name="region"] .filter-for').click()
    await expect.poll(() => page.locator('#q').inputValue()).toBe('{service="fields"} | region="us"')
    await expect.poll(() => page.locator('#status').textContent()).toBe('15 lines')
    // Context: the 10 lines before and after step 9 in its own stream, whatever the query filtered.
    await page.locator('#list .row:not([hidden])', { hasText: 'step 9' }).click()
    await page.locator('#detail .show-context').click()
    const context9 = page.locator('#detail .context-lines li .msg')
    await expect.poll(() => context9.count()).toBe(20)
    const lines = await context9.allTextContents()
    expect(lines[0]).toBe('level=info user=u0 step 0')
    expect(lines).toContain('level=info user=u0 step 8')
    expect(lines).not.toContain('other stream')
    expect(await page.locator('#detail .context-lines li.self .msg').textContent()).toBe('level=info user=u1 step 9')
    await shot(page, 'context')
    await context.close()
  })

  it('goes live: a line posted afterwards appears within 2 s; pause holds lines until resume', async () => {
    await post([{ service: 'live', message: 'before', ago: 2000 }])
    const { context, page } = await session.page()
    await open(page, { q: '{service="live"}', from: 'now-5m', to: 'now', live: '1' })
    await expect.poll(() => messages(page)).toEqual(['before'])
    expect(await page.locator('#live').getAttribute('aria-pressed')).toBe('true')
    await post([{ service: 'live', message: 'after 1', ago: 0 }])
    const posted = Date.now()
    await page.locator('#list .row .msg', { hasText: 'after 1' }).waitFor({ timeout: 2000 })
    expect(Date.now() - posted).toBeLessThan(2000)
    await page.locator('#pause').click()
    await post([{ service: 'live', message: 'while paused', ago: 0 }])
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(await messages(page)).toEqual(['after 1', 'before'])
    await page.locator('#pause').click()
    await expect.poll(() => messages(page), { timeout: 2000 }).toEqual(['while paused', 'after 1', 'before'])
    expect(await page.locator('#dropped').isHidden()).toBe(true)
    await shot(page, 'live')
    await context.close()
  })

  it('completes label names, values and operators; walks query history with ↑/↓; downloads NDJSON and CSV', async () => {
    await post([{ service: 'complete-me', message: 'one "quoted", line', ago: 3000, attributes: { tier: 'gold' } }, { service: 'complete-me', message: 'two', ago: 2000 }])
    const { context, page } = await session.page()
    await open(page, { q: '{service="complete-me"}', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toBe('2 lines')
    const q = page.locator('#q')
    await q.fill('')
    await q.pressSequentially('{ser')
    await expect.poll(() => page.locator('#suggest li').allTextContents()).toEqual(['service'])
    await q.press('Enter')
    expect(await q.inputValue()).toBe('{service="')
    await q.pressSequentially('complete')
    await expect.poll(() => page.locator('#suggest li').allTextContents()).toEqual(['complete-me'])
    await q.press('Tab')
    await q.pressSequentially('} ')
    await expect.poll(() => page.locator('#suggest li').count()).toBeGreaterThan(4)
    expect(await page.locator('#suggest li').first().textContent()).toContain('|=')
    await q.press('ArrowDown')
    await q.press('Enter')
    expect(await q.inputValue()).toBe('{service="complete-me"} != ""')
    // After a pipe: stages and the names to filter on (a stream label, an attribute).
    await q.fill('{service="complete-me"} | ')
    await q.press('End')
    await q.pressSequentially('j')
    await expect.poll(() => page.locator('#suggest li').allTextContents()).toEqual(['json'])
    await q.press('Backspace')
    await expect.poll(() => page.locator('#suggest li').allTextContents()).toEqual(expect.arrayContaining(['json', 'logfmt', 'service (filter)', 'tier (filter)']))
    await q.pressSequentially('ti')
    await q.press('Enter')
    expect(await q.inputValue()).toBe('{service="complete-me"} | tier="')
    await q.fill('{service="complete-me"} |= "two"')
    await q.press('Enter')
    await expect.poll(() => messages(page)).toEqual(['two'])
    await q.fill('{service="complete-me"}')
    await q.press('Enter')
    await expect.poll(() => page.locator('#status').textContent()).toBe('2 lines')
    await q.press('Home')
    await q.press('ArrowUp')
    expect(await q.inputValue()).toBe('{service="complete-me"}')
    await q.press('ArrowUp')
    expect(await q.inputValue()).toBe('{service="complete-me"} |= "two"')
    await q.press('ArrowDown')
    expect(await q.inputValue()).toBe('{service="complete-me"}')
    expect(JSON.parse(await page.evaluate(() => localStorage.getItem('logagg.history') ?? '[]')).slice(0, 2)).toEqual(['{service="complete-me"}', '{service="complete-me"} |= "two"'])
    const [ndjson] = await Promise.all([page.waitForEvent('download'), page.locator('#dl-ndjson').click()])
    const lines = readFileSync((await ndjson.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { message: string, service: string })
    expect(lines.map((l) => l.message)).toEqual(['one "quoted", line', 'two'])
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#dl-csv').click()])
    const text = readFileSync((await csv.path())!, 'utf8')
    expect(text.split('\n')[0]).toBe('timestamp,service,message,labels,attributes')
    expect(text).toContain(',complete-me,"one ""quoted"", line",')
    await context.close()
  })

  it('copies a link to a line that opens on that line; works by keyboard alone, dark, and at a narrow width', async () => {
    await post(Array.from({ length: 12 }, (_, i) => ({ service: 'keys', message: `key line ${i}`, ago: 20_000 - i * 1000 })))
    const { context, page } = await session.page({ dark: true })
    await open(page, { q: '{service="keys"}', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toBe('12 lines')
    // Keyboard only: focus the list, move down three lines, open, then context with Enter.
    await page.locator('#q').focus()
    await page.keyboard.press('Escape')
    await page.locator('#list').focus()
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    expect(await page.locator('#detail .line').textContent()).toBe('key line 9')
    // The row expands in place: its details sit under it, the next lines below them.
    const box = async (text: string): Promise<{ y: number, height: number }> => (await page.locator('#list .row:not([hidden])', { hasText: text }).boundingBox())!
    const details = (await page.locator('#detail').boundingBox())!
    expect(Math.round(details.y)).toBe(Math.round((await box('key line 9')).y + 20))
    expect((await box('key line 8')).y).toBeGreaterThanOrEqual(details.y + details.height - 1)
    await page.locator('#detail .show-context').focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('#detail .context-lines li').count()).toBeGreaterThan(10)
    await page.locator('#detail .copy-link').focus()
    await page.keyboard.press('Enter')
    const link = await page.locator('#detail .link').inputValue()
    expect(link).toContain('at=')
    expect(link).not.toContain('token')
    await page.keyboard.press('Escape')
    await expect.poll(() => page.locator('#detail').isHidden()).toBe(true)
    await expect.poll(async () => Math.round((await box('key line 8')).y - (await box('key line 9')).y)).toBe(20)
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    expect(bg).toBe('rgb(21, 24, 28)')
    await shot(page, 'dark-keyboard')
    const narrow = await session.page({ width: 420, height: 800 })
    await narrow.page.goto(link)
    await expect.poll(() => narrow.page.locator('#detail .line').textContent()).toBe('key line 9')
    expect(await narrow.page.locator('#list .row.selected .msg').textContent()).toBe('key line 9')
    expect(await narrow.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
    expect(await narrow.page.locator('#list').isVisible()).toBe(true)
    await shot(narrow.page, 'narrow-link')
    await narrow.context.close()
    await context.close()
  })
})

describe('explorer controls', () => {
  it('switches local / UTC times, newest / oldest first and wrap; picks a service; charts a metric query', async () => {
    const stamps = [isoAt(-9000, 123), isoAt(-8000, 456), isoAt(-7000, 789)]
    const body = [...stamps.map((timestamp, i) => ({ service: 'opts-a', timestamp, message: `opts line ${i} ${'long words '.repeat(40)}` })), { service: 'opts-b', timestamp: isoAt(-6000), message: 'the b line' }]
    const res = await fetch(`${server.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: body.map((b) => JSON.stringify(b)).join('\n') })
    expect(res.status).toBe(201)
    const { context, page } = await session.page({ timezoneId: 'America/New_York' })
    await open(page, { q: '{service="opts-a"}', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toBe('3 lines')
    const firstTs = (): Promise<string | null> => page.locator('#list .row:not([hidden]) .ts').first().textContent()
    const utc = stamps[2]!.replace('T', ' ').replace('Z', '')
    // New York is 5 hours behind UTC in winter (and 4 in summer).
    const local = await firstTs()
    expect(local).not.toBe(utc)
    expect([4, 5]).toContain(Math.round((Date.parse(utc.replace(' ', 'T') + 'Z') - Date.parse(local!.replace(' ', 'T') + 'Z')) / 3_600_000))
    await page.locator('#tz').click()
    await expect.poll(firstTs).toBe(utc)
    expect(await page.locator('#tz').textContent()).toBe('UTC')
    // Oldest first: runs the query forward.
    await page.locator('#order').click()
    await expect.poll(() => page.locator('#order').textContent()).toBe('Oldest first')
    await expect.poll(firstTs).toBe(stamps[0]!.replace('T', ' ').replace('Z', ''))
    // Wrap: each row as tall as its whole line, the next row right below it.
    const rowBoxes = (): Promise<Array<{ top: number, height: number, clipped: boolean }>> => page.locator('#list .row:not([hidden])').evaluateAll((rows) => rows
      .sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index')))
      .map((r) => ({ top: r.getBoundingClientRect().top, height: r.getBoundingClientRect().height, clipped: r.scrollHeight > r.clientHeight + 1 })))
    expect((await rowBoxes()).map((b) => b.height)).toEqual([20, 20, 20])
    await page.locator('#wrap').check()
    // Rows are measured, then placed on a later frame: wait for both (tall, unclipped, each right below the one before).
    await expect.poll(async () => {
      const b = await rowBoxes()
      return b.map((r, i) => r.height > 60 && !r.clipped && (i === 0 || Math.round(r.top) === Math.round(b[i - 1]!.top + b[i - 1]!.height)))
    }).toEqual([true, true, true])
    await shot(page, 'utc-oldest-wrap')
    // The service picker replaces the selector.
    await page.locator('#service').selectOption('opts-b')
    await expect.poll(() => page.locator('#q').inputValue()).toBe('{service="opts-b"}')
    await expect.poll(() => messages(page)).toEqual(['the b line'])
    // A metric query: its series charted, no rows.
    await page.locator('#q').fill('sum by (service) (count_over_time({service=~"opts-.*"}[1m]))')
    await page.locator('#q').press('Escape')
    await page.locator('#q').press('Enter')
    await expect.poll(() => page.locator('#status').textContent()).toBe('2 series')
    expect(await page.locator('#histogram .u-legend .u-series').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('service=opts-a'), expect.stringContaining('service=opts-b')]))
    expect(await messages(page)).toEqual([])
    await shot(page, 'metric')
    await context.close()
  })

  it('pages on past lines that share the microsecond a page stopped at, without repeating any, in both orders', async () => {
    const at = isoAt(-30_000, 321)
    const body = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ service: 'same-time', timestamp: at, message: `same time ${i}` }))
    body.push(JSON.stringify({ service: 'same-time', timestamp: isoAt(-40_000), message: 'older' }), JSON.stringify({ service: 'same-time', timestamp: isoAt(-20_000), message: 'newer' }))
    const res = await fetch(`${server.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: body.join('\n') })
    expect(res.status).toBe(201)
    const { context, page } = await session.page()
    await open(page, { q: '{service="same-time"}', from: 'now-15m', to: 'now' })
    for (const order of ['Newest first', 'Oldest first']) {
      await expect.poll(() => page.locator('#status').textContent()).toBe('1,000 lines (scroll for more)')
      await expect.poll(() => toEnd(page)).toBe('1,502 lines')
      // The list's last line (the row elements in view, by position).
      await expect.poll(async () => (await toEnd(page)) !== '' && await page.locator('#list .row:not([hidden])').evaluateAll((rows) => rows
        .sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index'))).map((r) => r.querySelector('.msg')!.textContent).at(-1)))
        .toBe(order === 'Newest first' ? 'older' : 'newer')
      if (order === 'Newest first') await page.locator('#order').click()
    }
    // Every line once: the download holds what the list holds.
    const [file] = await Promise.all([page.waitForEvent('download'), page.locator('#dl-ndjson').click()])
    const messagesDownloaded = readFileSync((await file.path())!, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message)
    expect(messagesDownloaded).toHaveLength(1502)
    expect(new Set(messagesDownloaded).size).toBe(1502)
    await context.close()
  })

  it('counts the lines it drops when more arrive than it keeps waiting while paused', async () => {
    await post([{ service: 'flood', message: 'first', ago: 1000 }])
    const { context, page } = await session.page()
    await open(page, { q: '{service="flood"}', from: 'now-5m', to: 'now', live: '1' })
    await expect.poll(() => messages(page)).toEqual(['first'])
    await page.locator('#pause').click()
    // 25,000 lines in five deliveries (each within the server's per-tail buffers): the page keeps 20,000 waiting.
    for (let b = 0; b < 5; b++) {
      await post(Array.from({ length: 5000 }, (_, i) => ({ service: 'flood', message: `flood ${b * 5000 + i}`, ago: 0 })))
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    await expect.poll(() => page.locator('#dropped').textContent(), { timeout: 5000 }).toBe('5,000 lines dropped')
    await page.locator('#pause').click()
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 5000 }).toBe('20,001 lines (live)')
    // The oldest waiting lines went; the newest are shown first.
    await expect.poll(async () => (await messages(page))[0]).toBe('flood 24999')
    await shot(page, 'dropped')
    await context.close()
  })
})

describe('the LogQL the explorer writes', () => {
  it('runs on the server: a quoted value with quotes and a backslash matches itself', async () => {
    // What withLabelFilter('{service="quoting"}', 'msg', 'say "hi" \\ now', '=') writes (test/unit/web/explorer-text.test.ts).
    const query = String.raw`{service="quoting"} | msg="say \"hi\" \\ now"`
    await post([{ service: 'quoting', message: 'q', ago: 1000, attributes: { msg: 'say "hi" \\ now' } }, { service: 'quoting', message: 'other', ago: 1000, attributes: { msg: 'say hi now' } }])
    const answer = await (await fetch(`${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query, since: '5m' }).toString()}`)).json() as { data: { result: Array<{ values: unknown[] }> } }
    expect(answer.data.result).toHaveLength(1)
    expect(answer.data.result[0]!.values).toHaveLength(1)
  })
})

describe('explorer with a token', () => {
  let guarded: RunningServer
  beforeAll(async () => { guarded = await startTestServer({ shards: 1, authToken: 'explorer-token-0123456789' }) })
  afterAll(async () => { await guarded.close() })

  it('asks once for the token on 401, keeps it in sessionStorage only, never in the URL', async () => {
    const res = await fetch(`${guarded.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer explorer-token-0123456789' }, body: JSON.stringify({ service: 'secret', timestamp: isoAt(-1000), message: 'behind a token' }) })
    expect(res.status).toBe(201)
    const { context, page } = await session.page()
    await page.goto(`${guarded.url}/?${new URLSearchParams({ q: '{service="secret"}', from: 'now-15m', to: 'now' }).toString()}`)
    const dialog = page.locator('#token-dialog')
    await dialog.waitFor({ state: 'visible' })
    expect(await page.locator('#token-reason').textContent()).toMatch(/token/i)
    await shot(page, 'token-dialog')
    await page.locator('#token').fill('explorer-token-0123456789')
    await page.locator('#token').press('Enter')
    await expect.poll(() => messages(page)).toEqual(['behind a token'])
    expect(await dialog.isVisible()).toBe(false)
    expect(await page.evaluate(() => sessionStorage.getItem('logagg.token'))).toBe('explorer-token-0123456789')
    expect(await page.evaluate(() => localStorage.getItem('logagg.token'))).toBeNull()
    expect(page.url()).not.toContain('explorer-token')
    // A reload in the same tab keeps the token: no question.
    await page.reload()
    await expect.poll(() => messages(page)).toEqual(['behind a token'])
    expect(await dialog.isVisible()).toBe(false)
    // Live with the token: the WebSocket carries it as a subprotocol.
    await page.locator('#live').click()
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/live/)
    const later = await fetch(`${guarded.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer explorer-token-0123456789' }, body: JSON.stringify({ service: 'secret', timestamp: isoAt(0), message: 'live behind a token' }) })
    expect(later.status).toBe(201)
    await expect.poll(() => messages(page), { timeout: 2000 }).toEqual(['live behind a token', 'behind a token'])
    expect(page.url()).not.toContain('explorer-token')
    dropRefusals(401)
    await context.close()
  })
})

describe('explorer with 100,000 rows', () => {
  it('loads 100,000 rows page by page as one scrolls and shows the right rows as one scrolls through them', async () => {
    const batch = 20_000
    for (let b = 0; b < 5; b++) {
      const body = Array.from({ length: batch }, (_, i) => {
        const n = b * batch + i
        return JSON.stringify({ service: 'bulk', timestamp: isoAt(-600_000 + n * 5, n % 1000), message: `bulk line ${n} GET /api/items/${n % 977} 200 ${n % 13}ms` })
      }).join('\n')
      const res = await fetch(`${server.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
      expect(res.status).toBe(201)
    }
    const { context, page } = await session.page()
    await open(page, { q: '{service="bulk"} |= "line"', from: 'now-15m', to: 'now' })
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/^1,000 lines/)
    // Scrolling to the end loads the next page (5,000 lines) until 100,000 are in the list.
    for (let i = 0; i < 40; i++) {
      const text = (await page.locator('#status').textContent())!
      if (text.startsWith('100,000 lines')) break
      await expect.poll(() => toEnd(page)).not.toBe(text)
    }
    expect(await page.locator('#status').textContent()).toBe('100,000 lines')
    expect(await page.locator('#list .row').count()).toBeLessThan(200)
    // Scrolled through, 60 rows a frame (how long each frame takes is a budget: bench/explorer.ts measures it).
    const reached = await page.locator('#list').evaluate((el) => new Promise<number>((resolve) => {
      el.scrollTop = 0
      let frames = 0
      const step = (): void => {
        el.scrollTop += 1200
        if (++frames < 120) requestAnimationFrame(step)
        else resolve(Math.max(...[...el.querySelectorAll('.row:not([hidden])')].map((r) => Number(r.getAttribute('data-index')))))
      }
      requestAnimationFrame(step)
    }))
    // 120 frames × 60 rows: the rows in view follow the scroll.
    expect(reached).toBeGreaterThan(5000)
    // The rows in view are the right ones: row 1,000 of the newest-first list.
    await page.locator('#list').evaluate((el) => { el.scrollTop = 1000 * 20 })
    await expect.poll(async () => (await page.locator('#list .row:not([hidden])').evaluateAll((rows) => rows
      .filter((r) => r.getAttribute('data-index') === '1000').map((r) => r.querySelector('.msg')!.textContent)))).toEqual(['bulk line 98999 GET /api/items/' + (98999 % 977) + ' 200 ' + (98999 % 13) + 'ms'])
    await shot(page, 'bulk-100k')
    // With wrap (rows measured as they come into view): scrolled from the middle, rows that touch without overlapping.
    await page.locator('#wrap').check()
    await page.locator('#list').evaluate((el) => new Promise<void>((resolve) => {
      el.scrollTop = el.scrollHeight / 2
      let frames = 0
      const step = (): void => {
        el.scrollTop += 1200
        if (++frames < 60) requestAnimationFrame(step)
        else resolve()
      }
      requestAnimationFrame(step)
    }))
    await expect.poll(() => page.locator('#list .row:not([hidden])').evaluateAll((rows) => {
      const boxes = rows.map((r) => ({ i: Number(r.getAttribute('data-index')), top: r.getBoundingClientRect().top, bottom: r.getBoundingClientRect().bottom })).sort((a, b) => a.i - b.i)
      return boxes.length > 5 && boxes.every((b, k) => k === 0 || (b.i === boxes[k - 1]!.i + 1 && Math.abs(b.top - boxes[k - 1]!.bottom) < 1))
    })).toBe(true)
    await context.close()
  }, 60_000)
})
