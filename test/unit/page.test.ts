import { describe, expect, it } from 'vitest'
import { decodeCursor } from '../../src/shards/cursor.js'
import type { QueryPart } from '../../src/store/shard-messages.js'
import { renderPageAs } from '../../src/shards/page.js'
import { renderedPart } from './parts.js'
import { byTsSeq, seeded } from './random.js'

const renderPage = (parts: QueryPart[], descending: boolean, limit: number): Uint8Array[] => renderPageAs(parts, descending, limit, Infinity, 'json').chunks

interface Row { service: string, ts: number, seq: number, message: string }
interface Page { logs: Array<{ service: string, timestamp: string, message: string }>, next: string | null }

/** The timestamp text, written independently of formatTimestamp. */
function iso (us: number): string {
  const ms = Math.floor(us / 1000)
  return new Date(ms).toISOString().slice(0, 23) + String(us - ms * 1000).padStart(3, '0') + 'Z'
}

/** A shard's part: rows sorted in the query's order, rendered as a shard renders them. */
function part (rows: Row[], descending = false): QueryPart {
  const sorted = [...rows].sort(byTsSeq)
  if (descending) sorted.reverse()
  return renderedPart(sorted, sorted.map((r) => Buffer.from(JSON.stringify({ service: r.service, timestamp: iso(r.ts), message: r.message }))))
}

const render = (parts: QueryPart[], descending: boolean, limit: number): Page => JSON.parse(Buffer.concat(renderPage(parts, descending, limit)).toString('utf8')) as Page
const T0 = Date.parse('2026-03-10T10:00:00Z') * 1000

describe('renderPage', () => {
  it('renders an empty page', () => {
    expect(Buffer.concat(renderPage([], false, 10)).toString('utf8')).toBe('{"logs":[],"next":null}')
    expect(render([part([]), part([])], true, 10)).toEqual({ logs: [], next: null })
  })

  it('merges the parts in (ts, seq) order with the timestamps in RFC 3339 microseconds', () => {
    const a = [
      { service: 'api', ts: T0 + 1, seq: 1, message: 'a1' },
      { service: 'api', ts: T0 + 5, seq: 4, message: 'a2' }
    ]
    const b = [
      { service: 'db', ts: T0 + 1, seq: 2, message: 'b1' },
      { service: 'web', ts: T0 + 3, seq: 3, message: 'b2' },
      { service: 'db', ts: T0 + 1_000_000, seq: 5, message: 'b3' }
    ]
    const page = render([part(a), part(b)], false, 10)
    expect(page.logs).toEqual([
      { service: 'api', timestamp: '2026-03-10T10:00:00.000001Z', message: 'a1' },
      { service: 'db', timestamp: '2026-03-10T10:00:00.000001Z', message: 'b1' },
      { service: 'web', timestamp: '2026-03-10T10:00:00.000003Z', message: 'b2' },
      { service: 'api', timestamp: '2026-03-10T10:00:00.000005Z', message: 'a2' },
      { service: 'db', timestamp: '2026-03-10T10:00:01.000000Z', message: 'b3' }
    ])
    expect(page.next).toBeNull()
    const desc = render([part(a, true), part(b, true)], true, 10)
    expect(desc.logs.map((l) => l.message)).toEqual(['b3', 'a2', 'b2', 'b1', 'a1'])
    expect(desc.next).toBeNull()
  })

  it('gives next = null when everything fit, even exactly', () => {
    const rows = [1, 2, 3].map((i) => ({ service: 's', ts: T0 + i, seq: i, message: `m${i}` }))
    expect(render([part(rows)], false, 3).next).toBeNull()
    expect(render([part(rows)], false, 4).next).toBeNull()
  })

  it('gives a cursor at the last entry shown when more are left, for its order', () => {
    const rows = [1, 2, 3, 4].map((i) => ({ service: 's', ts: T0 + i * 10, seq: i, message: `m${i}` }))
    const asc = render([part(rows.slice(0, 2)), part(rows.slice(2))], false, 3)
    expect(asc.logs.map((l) => l.message)).toEqual(['m1', 'm2', 'm3'])
    expect(asc.next).not.toBeNull()
    expect(decodeCursor(asc.next!)).toEqual({ after: { ts: T0 + 30, seq: 3 }, descending: false })

    const desc = render([part(rows.slice(0, 2), true), part(rows.slice(2), true)], true, 3)
    expect(desc.logs.map((l) => l.message)).toEqual(['m4', 'm3', 'm2'])
    expect(decodeCursor(desc.next!)).toEqual({ after: { ts: T0 + 20, seq: 2 }, descending: true })
  })

  it('emits valid JSON that keeps odd service names and messages intact', () => {
    const odd = [
      'quote " and backslash \\', 'new\nline\r\ttab', '\u0000\u0001\u001f control', '</script><!--', 'ünïcødé 日本語 😀',
      '\u2028\u2029 separators', 'lone \ud800 surrogate', 'lone \udfff low', '{"logs":[]}', '', ' '
    ]
    const rows = odd.map((text, i) => ({ service: text || 'x', ts: T0 + i, seq: i + 1, message: text }))
    const text = Buffer.concat(renderPage([part(rows)], false, 100)).toString('utf8')
    const page = JSON.parse(text) as Page
    expect(page.logs).toEqual(rows.map((r) => ({ service: r.service, timestamp: iso(r.ts), message: r.message })))
    // Raw control characters never reach the output, and lone surrogates are escaped,
    // so the text survives UTF-8 encoding unchanged.
    for (let i = 0; i < text.length; i++) expect(text.charCodeAt(i), `char ${i}`).toBeGreaterThanOrEqual(0x20)
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text)
  })

  it('matches a reference merge for random parts, pages and limits', () => {
    const rnd = seeded(31)
    for (let round = 0; round < 200; round++) {
      const descending = rnd.int(0, 1) === 1
      const limit = rnd.int(1, 60)
      let seq = 0
      // Each shard sends at most limit + 1 entries, as the router asks.
      const partsRows: Row[][] = Array.from({ length: rnd.int(1, 5) }, () =>
        Array.from({ length: rnd.int(0, limit + 1) }, () => ({
          service: `svc-${rnd.int(0, 3)}`,
          ts: T0 + rnd.int(0, 30) * 1000 + rnd.int(0, 1),
          seq: ++seq,
          message: `m${seq}`
        })))
      const all = partsRows.flat().sort(byTsSeq)
      if (descending) all.reverse()
      const page = render(partsRows.map((rows) => part(rows, descending)), descending, limit)
      const shown = all.slice(0, limit)
      expect(page.logs).toEqual(shown.map((r) => ({ service: r.service, timestamp: iso(r.ts), message: r.message })))
      if (all.length > limit) {
        const last = shown[shown.length - 1]!
        expect(decodeCursor(page.next!)).toEqual({ after: { ts: last.ts, seq: last.seq }, descending })
      } else {
        expect(page.next).toBeNull()
      }
    }
  })
})
