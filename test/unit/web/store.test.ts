import { describe, expect, it } from 'vitest'
import { Store } from '../../../web/src/store.js'

// The explorer's store (web/src/store.ts): what the page's components show,
// and when they render again.

describe('explorer store', () => {
  it('merges a patch into a new state and tells its subscribers', () => {
    const store = new Store({ status: '', dropped: 0 })
    const before = store.get()
    const seen: Array<{ status: string, dropped: number }> = []
    store.subscribe(() => seen.push(store.get()))
    store.set({ status: '35 lines' })
    expect(store.get()).toEqual({ status: '35 lines', dropped: 0 })
    expect(before).toEqual({ status: '', dropped: 0 })
    expect(seen).toEqual([{ status: '35 lines', dropped: 0 }])
  })

  it('tells no one when nothing changed, and no one who unsubscribed', () => {
    const fields = { boxes: [] }
    const store = new Store({ status: 'a', fields })
    let calls = 0
    const stop = store.subscribe(() => { calls++ })
    store.set({ status: 'a', fields })
    expect(calls).toBe(0)
    // A new object is a change, even when equal: components compare by identity.
    store.set({ fields: { boxes: [] } })
    expect(calls).toBe(1)
    stop()
    store.set({ status: 'b' })
    expect(calls).toBe(1)
    expect(store.get().status).toBe('b')
  })
})
