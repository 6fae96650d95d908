import { useLayoutEffect, useRef } from 'preact/hooks'
import { PRESETS, type Explorer } from '../explorer.js'
import { useStore } from '../store.js'
import { FieldsSidebar } from './fields-sidebar.js'
import { QueryBox } from './query-bar.js'
import { TokenDialog } from './token-dialog.js'

// The page: the top bar (query, service, time range, zone, Run, Live), the
// server's error, the fields sidebar, the histogram, the tools and the list.
// The list and the histogram draw themselves (list.ts, histogram.ts), and
// complete.ts works the query's textarea: their elements are rendered here
// and handed to the controller (explorer.ts) once mounted.

export function App ({ explorer }: { explorer: Explorer }) {
  const view = useStore(explorer.store)
  const q = useRef<HTMLTextAreaElement>(null)
  const list = useRef<HTMLDivElement>(null)
  const histogram = useRef<HTMLDivElement>(null)
  const from = useRef<HTMLInputElement>(null)
  // A layout effect runs as soon as the page is in the DOM (an effect would wait for a frame): the
  // first requests start at once. The token dialog's, a child's, has run already.
  useLayoutEffect(() => {
    explorer.start({ q: q.current!, list: list.current!, histogram: histogram.current!, from: from.current! })
  }, [explorer])
  const onRangeKey = (e: KeyboardEvent): void => { if (e.key === 'Enter') explorer.run(true) }
  // The preset shown follows what is typed (a preset only when `to` is now).
  const onRangeChange = (): void => explorer.setRange(view.from.trim(), view.to.trim())
  return (
    <>
      <header class='topbar'>
        <h1 class='brand'>logagg</h1>
        <QueryBox input={q} suggestions={view.suggest} pick={(i) => explorer.pickSuggestion(i)} />
        <label class='sr' for='service'>Service</label>
        <select id='service' value='' onChange={(e) => { const s = e.currentTarget.value; e.currentTarget.value = ''; explorer.pickService(s) }}>
          <option value=''>service…</option>
          {view.services.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <label class='sr' for='range'>Time range</label>
        <select id='range' value={view.preset} onChange={(e) => explorer.pickPreset(e.currentTarget.value)}>
          {PRESETS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          <option value='custom'>Custom</option>
        </select>
        <label class='sr' for='from'>From</label>
        <input id='from' ref={from} size={22} spellcheck={false} title='now-15m or RFC 3339' value={view.from} onInput={(e) => explorer.store.set({ from: e.currentTarget.value })} onKeyDown={onRangeKey} onChange={onRangeChange} />
        <label class='sr' for='to'>To</label>
        <input id='to' size={22} spellcheck={false} title='now or RFC 3339' value={view.to} onInput={(e) => explorer.store.set({ to: e.currentTarget.value })} onKeyDown={onRangeKey} onChange={onRangeChange} />
        <button id='tz' type='button' aria-pressed={view.utc ? 'true' : 'false'} title='Show times in UTC or local time' onClick={() => explorer.toggleUtc()}>{view.utc ? 'UTC' : 'Local'}</button>
        <button id='run' type='button' class='primary' onClick={() => explorer.run(true)}>Run</button>
        <button id='live' type='button' aria-pressed={view.live ? 'true' : 'false'} onClick={() => explorer.toggleLive()}>Live</button>
        <button id='pause' type='button' aria-pressed={view.paused ? 'true' : 'false'} hidden={!view.live} onClick={() => explorer.togglePause()}>{view.paused ? 'Resume' : 'Pause'}</button>
      </header>
      <div id='error' role='alert' hidden={view.error === null}>
        <span id='error-text'>{view.error?.message}</span>
        <pre id='error-where' hidden={view.error?.where == null}>{view.error?.where}</pre>
      </div>
      <main>
        <FieldsSidebar open={view.fieldsOpen} state={view.fields} filter={(name, value, op, parser) => explorer.narrow(name, value, op, parser)} opened={(i) => explorer.fieldOpened(i)} />
        <section id='results' aria-label='Results'>
          <div id='histogram' ref={histogram} aria-label='Volume by level' />
          <div class='tools'>
            <span id='status' aria-live='polite'>{view.status}</span>
            <span id='dropped' hidden={view.dropped === 0}>{view.dropped.toLocaleString('en')} lines dropped</span>
            <span class='spring' />
            <button id='zoom-out' type='button' title='Twice the time range, around its middle' onClick={() => explorer.zoomOut()}>Zoom out</button>
            <button id='fields-toggle' type='button' aria-controls='fields' aria-expanded={view.fieldsOpen ? 'true' : 'false'} onClick={() => explorer.toggleFields()}>Fields</button>
            <button id='order' type='button' aria-pressed={view.desc ? 'true' : 'false'} onClick={() => explorer.toggleOrder()}>{view.desc ? 'Newest first' : 'Oldest first'}</button>
            <label><input type='checkbox' id='wrap' checked={view.wrap} onChange={(e) => explorer.setWrap(e.currentTarget.checked)} /> Wrap</label>
            <button id='dl-ndjson' type='button' onClick={() => explorer.download('ndjson')}>NDJSON</button>
            <button id='dl-csv' type='button' onClick={() => explorer.download('csv')}>CSV</button>
          </div>
          <div id='list' ref={list} tabIndex={0} role='listbox' aria-label='Log lines (↑/↓ to move, Enter to expand)' />
        </section>
      </main>
      <TokenDialog />
    </>
  )
}
