import { byId } from './dom.js'

// Asked when the server answers 401 (api.ts asks once for every request
// waiting on it): the server's message, a password field, Use or Cancel.

/** Resolves with the token typed, or null when the person cancels. */
export function askToken (reason: string): Promise<string | null> {
  const dialog = byId<HTMLDialogElement>('token-dialog')
  const input = byId<HTMLInputElement>('token')
  byId('token-reason').textContent = reason
  input.value = ''
  return new Promise((resolve) => {
    const done = (value: string | null): void => {
      dialog.close()
      resolve(value)
    }
    byId('token-form').onsubmit = (e) => {
      e.preventDefault()
      done(input.value.trim())
    }
    byId('token-cancel').onclick = () => done(null)
    dialog.oncancel = () => done(null)
    dialog.showModal()
    input.focus()
  })
}
