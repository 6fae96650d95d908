import { useEffect, useState } from 'preact/hooks'

// The page's state that components show (status, error, toggles, the fields
// sidebar, …): one object, replaced by set(), whose subscribers (the
// components, through useStore) render again. The rows themselves are not
// here: 100,000 of them live in the list (list.ts), which draws only the
// ones in view.

export class Store<T extends object> {
  private value: T
  private readonly subscribers = new Set<() => void>()

  constructor (initial: T) {
    this.value = initial
  }

  get (): T {
    return this.value
  }

  /** A new state with these keys changed; subscribers run when any of them did. */
  set (patch: Partial<T>): void {
    const next = { ...this.value, ...patch }
    if ((Object.keys(patch) as Array<keyof T>).every((k) => Object.is(next[k], this.value[k]))) return
    this.value = next
    for (const s of this.subscribers) s()
  }

  subscribe (fn: () => void): () => void {
    this.subscribers.add(fn)
    return () => { this.subscribers.delete(fn) }
  }
}

/** The store's current state; the component renders again when it changes. */
export function useStore<T extends object> (store: Store<T>): T {
  const [value, setValue] = useState(store.get())
  useEffect(() => {
    setValue(store.get())
    return store.subscribe(() => setValue(store.get()))
  }, [store])
  return value
}
