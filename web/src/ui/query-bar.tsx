import type { Ref } from 'preact'
import type { Suggestions } from '../complete.js'

// The query box and its suggestions. complete.ts works the textarea (keys,
// caret, history, what to suggest); this draws the suggestions it hands
// over, and a press on one takes it (mousedown, before the box loses focus).

interface Props {
  input: Ref<HTMLTextAreaElement>
  suggestions: Suggestions
  pick: (i: number) => void
}

export function QueryBox ({ input, suggestions, pick }: Props) {
  return (
    <div class='query'>
      <label for='q' class='sr'>LogQL query (Enter runs, Shift+Enter adds a line, ↑/↓ history)</label>
      <textarea id='q' ref={input} rows={1} spellcheck={false} autocomplete='off' autocapitalize='off' aria-expanded='false' aria-autocomplete='list' aria-controls='suggest' placeholder='{service="api"} |= "error"' />
      <ul id='suggest' role='listbox' aria-label='Suggestions' hidden={suggestions.labels.length === 0}>
        {suggestions.labels.map((label, i) => (
          <li
            key={`${i}:${label}`} role='option' id={`suggest-${i}`} aria-selected={i === suggestions.active ? 'true' : 'false'}
            class={i === suggestions.active ? 'active' : undefined} onMouseDown={(e) => { e.preventDefault(); pick(i) }}
          >
            {label}
          </li>
        ))}
      </ul>
    </div>
  )
}
