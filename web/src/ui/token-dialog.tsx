import { useLayoutEffect, useRef, useState } from 'preact/hooks'
import { onTokenNeeded } from '../api.js'

// Asked when the server answers 401 (api.ts asks once for every request
// waiting on it): the server's message, a password field, Use or Cancel.
// It registers itself as api.ts's way to ask before the page's first
// request (a layout effect runs before the App's effects start the page).

export function TokenDialog () {
  const dialog = useRef<HTMLDialogElement>(null)
  const input = useRef<HTMLInputElement>(null)
  const answer = useRef<((token: string | null) => void) | null>(null)
  const [reason, setReason] = useState('')
  useLayoutEffect(() => {
    onTokenNeeded((why) => new Promise((resolve) => {
      setReason(why)
      answer.current = resolve
      input.current!.value = ''
      dialog.current!.showModal()
      input.current!.focus()
    }))
  }, [])
  const done = (value: string | null): void => {
    const resolve = answer.current
    answer.current = null
    dialog.current!.close()
    resolve?.(value)
  }
  return (
    <dialog id='token-dialog' aria-labelledby='token-title' ref={dialog} onCancel={() => done(null)}>
      <form id='token-form' method='dialog' onSubmit={(e) => { e.preventDefault(); done(input.current!.value.trim()) }}>
        <h2 id='token-title'>This server asks for a token</h2>
        <p id='token-reason'>{reason}</p>
        <label for='token'>Token (kept in this tab only)</label>
        <input id='token' type='password' autocomplete='off' required ref={input} />
        <div class='buttons'>
          <button value='cancel' type='button' id='token-cancel' onClick={() => done(null)}>Cancel</button>{' '}
          <button value='ok' class='primary'>Use token</button>
        </div>
      </form>
    </dialog>
  )
}
