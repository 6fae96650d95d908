import { visible } from '../dom.js'
import type { FieldBox, FieldFilter, FieldsState } from '../fields.js'
import { quote } from '../query-text.js'

// The fields sidebar (fields.ts counts what it shows): each label or field a
// <details> with its top values, their counts and a bar; a click on a value
// filters for it, − filters it out. Opening a field not yet counted counts it.

interface Props {
  open: boolean
  state: FieldsState
  filter: FieldFilter
  opened: (i: number) => void
}

export function FieldsSidebar ({ open, state, filter, opened }: Props) {
  return (
    <aside id='fields' aria-label='Fields' class={open ? undefined : 'hidden'}>
      <h2>Fields</h2>
      <div id='field-list'>
        {state.boxes.map((box, i) => <FieldValues key={`${box.kind}:${box.name}`} box={box} filter={filter} onOpen={() => opened(i)} />)}
        {state.notListed > 0 && <p class='more'>{state.notListed} more fields not listed</p>}
        {state.loaded && state.boxes.length === 0 && <p class='more'>No fields in this range</p>}
      </div>
    </aside>
  )
}

function FieldValues ({ box, filter, onOpen }: { box: FieldBox, filter: FieldFilter, onOpen: () => void }) {
  const top = box.values?.[0]?.count ?? 1
  return (
    // `open` is where the box starts; the person opens and closes it from there.
    <details class={`field ${box.kind}`} open={box.open} data-field={box.name} onToggle={(e) => { if (e.currentTarget.open) onOpen() }}>
      <summary>{box.name}</summary>
      <ul class='values'>
        {box.error !== null
          ? <li class='err'>{box.error}</li>
          : box.values === null
            ? <li class='loading'>…</li>
            : box.values.length === 0
              ? <li class='loading'>no values</li>
              : box.values.map(({ value, count }) => (
                <li key={value}>
                  <button type='button' class='value' title={`Filter for ${box.name}=${quote(value)}`} onClick={() => filter(box.name, value, '=', box.parser)}>
                    <span class='v'>{visible(value)}</span><span class='n'>{count.toLocaleString('en')}</span>
                  </button>
                  <button type='button' class='filter-out' aria-label={`Filter out ${box.name} ${value}`} title={`Filter out ${box.name}=${quote(value)}`} onClick={() => filter(box.name, value, '!=', box.parser)}>−</button>
                  <span class='bar' style={{ width: `${Math.max(2, Math.round(100 * count / top))}%` }} />
                </li>
              ))}
      </ul>
    </details>
  )
}
