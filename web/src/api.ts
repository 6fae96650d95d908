// The server's public API as the page calls it: same-origin fetches with the
// token, if the server asked for one, in an Authorization header (never in a
// URL). On a 401 the page asks for a token once (concurrent calls share the
// one question), keeps it in sessionStorage and tries again.

const TOKEN_KEY = 'logagg.token'

/** An error the server answered: its own message, and where in the query, when it says. */
export class ApiError extends Error {
  constructor (message: string, readonly status: number) {
    super(message)
  }
}

type AskToken = (reason: string) => Promise<string | null>
let askToken: AskToken = async () => null
let asking: Promise<string | null> | null = null

/** How the page asks for a token (a dialog); resolves null when the person cancels. */
export function onTokenNeeded (ask: AskToken): void {
  askToken = ask
}

const token = (): string | null => sessionStorage.getItem(TOKEN_KEY)

/** The token the person gave, if any (the live tail sends it its own way). */
export const bearerToken = token

export function authHeaders (): Record<string, string> {
  const t = token()
  return t === null ? {} : { authorization: `Bearer ${t}` }
}

/** The error text of an answer in any of the server's shapes (native, Loki, plain text). */
async function messageOf (res: Response): Promise<string> {
  const text = await res.text()
  try {
    const body = JSON.parse(text) as { error?: unknown, message?: unknown }
    if (typeof body.error === 'string') return body.error
    if (typeof body.message === 'string') return body.message
  } catch {}
  return text.trim() === '' ? `${res.status} ${res.statusText}` : text.trim()
}

/** GETs `path` and parses its JSON; a refusal throws ApiError with the server's message. */
export async function getJson<T> (path: string, params: Record<string, string> = {}, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<T> {
  const url = `${path}?${new URLSearchParams(params).toString()}`
  for (let attempt = 0; ; attempt++) {
    const init: RequestInit = { headers: { accept: 'application/json', ...authHeaders(), ...extra } }
    if (signal !== undefined) init.signal = signal
    const res = await fetch(url, init)
    if (res.status === 401 && attempt === 0) {
      const message = await messageOf(res)
      asking ??= askToken(message).finally(() => { asking = null })
      const t = await asking
      if (t !== null && t !== '') {
        sessionStorage.setItem(TOKEN_KEY, t)
        continue
      }
      throw new ApiError(message, 401)
    }
    if (!res.ok) throw new ApiError(await messageOf(res), res.status)
    return await res.json() as T
  }
}

export interface LokiStream { stream: Record<string, string>, values: Array<[string, string, { structuredMetadata?: Record<string, string>, parsed?: Record<string, string> }?]> }
export interface LokiMatrix { metric: Record<string, string>, values: Array<[number, string]> }
export interface LokiVector { metric: Record<string, string>, value: [number, string] }

export interface LokiData<R> { status: string, data: { resultType: string, result: R[] } }

export const CATEGORIZE = { 'x-loki-response-encoding-flags': 'categorize-labels' }

export interface Volume { start: number, end: number, step: number, times: number[], levels: Record<string, number[]> }
export interface DetectedField { label: string, type: string, cardinality: number, parsers: string[] | null }
