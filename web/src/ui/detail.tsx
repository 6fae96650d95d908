import { render } from 'preact'
import { useState } from 'preact/hooks'
import { CATEGORIZE, getJson, type LokiData, type LokiStream } from '../api.js'
import { visible } from '../dom.js'
import { streamSelector } from '../query-text.js'
import { compareRows, parsedFields, rowsOf, type Row } from '../rows.js'
import { formatTs } from '../time.js'

// A row expanded: its line in full, its labels, attributes and parsed
// fields with "filter for" / "filter out", the lines around it in its
// stream ("show context"), and a link to it. The list (list.ts) places its
// element under the row; showDetail draws into it at once (a top-level
// render is synchronous), so the list can measure its height right after.

export interface DetailEvents {
  filter: (name: string, value: string, op: '=' | '!=', parser: string | null) => void
  link: (row: Row) => string
  close: () => void
}

/** Lines shown before and after the line in its stream. */
const CONTEXT = 10

/** Shows `row`'s details in `el`. */
export function showDetail (el: HTMLElement, row: Row, events: DetailEvents, utc: boolean): void {
  el.hidden = false
  // A new key per row: an opened row starts with no context and no link shown.
  render(<Detail key={`${row.ns}\0${row.line}`} row={row} events={events} utc={utc} />, el)
}

export function hideDetail (el: HTMLElement): void {
  el.hidden = true
  render(null, el)
}

type Context = { state: 'none' } | { state: 'loading' } | { state: 'error', message: string } | { state: 'done', query: string, rows: Row[] }

function Detail ({ row, events, utc }: { row: Row, events: DetailEvents, utc: boolean }) {
  const [context, setContext] = useState<Context>({ state: 'none' })
  const [link, setLink] = useState<string | null>(null)
  const [copied, setCopied] = useState<string>('Copy link')
  const parsed = parsedFields(row.line)
  const copy = (): void => {
    const text = events.link(row)
    setLink(text)
    navigator.clipboard?.writeText(text).then(() => setCopied('Link copied'), () => setCopied('Copy the link below'))
  }
  const showContext = async (): Promise<void> => {
    setContext({ state: 'loading' })
    try {
      setContext({ state: 'done', ...await contextOf(row) })
    } catch (err) {
      setContext({ state: 'error', message: (err as Error).message })
    }
  }
  return (
    <>
      <div class='detail-head'>
        <strong>{formatTs(row.ns, utc)}</strong>{' '}
        <button type='button' class='show-context' onClick={showContext}>Show context</button>{' '}
        <button type='button' class='copy-link' onClick={copy}>{copied}</button>{' '}
        <button type='button' class='close' aria-label='Close details' onClick={() => events.close()}>×</button>
      </div>
      {link !== null && <LinkBox link={link} />}
      <pre class='line'>{visible(row.line).replace(/\u21b5/g, '\n')}</pre>
      <Table title='Labels' values={row.stream} parser={null} kind='labels' filter={events.filter} />
      {Object.keys(row.meta).length > 0 && <Table title='Attributes' values={row.meta} parser={null} kind='attributes' filter={events.filter} />}
      {parsed !== null && <Table title={`Fields (${parsed.parser})`} values={parsed.fields} parser={parsed.parser} kind='parsed' filter={events.filter} />}
      <div class='context'>
        {context.state === 'loading' && <p>Loading context…</p>}
        {context.state === 'error' && <p class='err'>{context.message}</p>}
        {context.state === 'done' && <ContextLines query={context.query} rows={context.rows} row={row} utc={utc} />}
      </div>
    </>
  )
}

function ContextLines ({ query, rows, row, utc }: { query: string, rows: Row[], row: Row, utc: boolean }) {
  return (
    <>
      <h3>Context in {query}</h3>
      <ol class='context-lines' aria-label={`Lines around this one in ${query}`}>
        {rows.map((r) => {
          const self = r.ns === row.ns && r.line === row.line
          return (
            <li key={`${r.ns}\0${r.line}`} class={self ? 'self' : undefined} aria-current={self ? 'true' : undefined}>
              <span class='ts'>{formatTs(r.ns, utc)}</span> <span class='msg'>{visible(r.line)}</span>
            </li>
          )
        })}
      </ol>
    </>
  )
}

/** The link, selected so that Ctrl+C copies it where the clipboard API is refused. */
function LinkBox ({ link }: { link: string }) {
  return <input class='link' readonly aria-label='Link to this line' value={link} ref={(el) => { el?.select() }} />
}

function Table ({ title, values, parser, kind, filter }: { title: string, values: Record<string, string>, parser: string | null, kind: string, filter: DetailEvents['filter'] }) {
  return (
    <table class={`kv ${kind}`}>
      <caption>{title}</caption>
      <tbody>
        {Object.entries(values).map(([name, value]) => (
          <tr key={name} data-name={name}>
            <th>{name}</th>
            <td>{visible(value)}</td>
            <td class='actions'>
              <button type='button' class='filter-for' title={`Only lines with ${name}=${value}`} aria-label={`Filter for ${name} ${value}`} onClick={() => filter(name, value, '=', parser)}>+</button>
              <button type='button' class='filter-out' title={`Lines without ${name}=${value}`} aria-label={`Filter out ${name} ${value}`} onClick={() => filter(name, value, '!=', parser)}>−</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The lines before and after `row` in its own stream (labels exactly), from two Loki queries. */
async function contextOf (row: Row): Promise<{ query: string, rows: Row[] }> {
  const query = streamSelector(row.stream)
  const us = BigInt(row.ns) / 1000n
  const [before, after] = await Promise.all([
    getJson<LokiData<LokiStream>>('/loki/api/v1/query_range', { query, end: String(us * 1000n), start: String((us - 86_400_000_000n) * 1000n), limit: String(CONTEXT + 1), direction: 'backward' }, CATEGORIZE),
    getJson<LokiData<LokiStream>>('/loki/api/v1/query_range', { query, start: String(us * 1000n), end: String((us + 86_400_000_000n) * 1000n), limit: String(CONTEXT + 1), direction: 'forward' }, CATEGORIZE)
  ])
  const seen = new Set<string>()
  const rows = [...rowsOf(before.data.result), ...rowsOf(after.data.result)].filter((r) => {
    const key = `${r.ns}\0${r.line}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  }).sort(compareRows)
  return { query, rows }
}
