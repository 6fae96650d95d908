import helmet from 'helmet'

/**
 * The headers helmet sets, captured once at start by running it against a
 * recording response, so the fast path can send exactly the same headers
 * without running the middleware per request.
 */
export function securityHeaders (): ReadonlyArray<readonly [string, string]> {
  const headers = new Map<string, string>()
  const recorder = {
    setHeader (name: string, value: string | number | readonly string[]): void { headers.set(name.toLowerCase(), String(value)) },
    removeHeader (name: string): void { headers.delete(name.toLowerCase()) }
  }
  let called = false
  helmet()({} as never, recorder as never, () => { called = true })
  if (!called) throw new Error('helmet did not finish synchronously; its headers cannot be captured')
  return Object.freeze([...headers].map(([k, v]) => Object.freeze([k, v] as const)))
}
