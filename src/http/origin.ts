import type { IncomingHttpHeaders } from 'node:http'
import { ForbiddenHostError, ForbiddenOriginError } from '../core/errors.js'

// Who may call: a browser page from another origin must not write forged
// entries (a form or fetch with text/plain needs no preflight), and a DNS
// rebinding page must not read a server that listens on loopback. Browsers
// always send Origin on cross-origin writes and the page's host in Host;
// curl and log shippers send no Origin and the name they dialled, so nothing
// they do changes.

const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|::1)$/

/** The host name of a Host header, lowercased, without its port. */
export function hostName (host: string): string {
  const h = host.trim().toLowerCase()
  if (h.startsWith('[')) {
    const close = h.indexOf(']')
    return close < 0 ? h : h.slice(0, close + 1)
  }
  const colon = h.lastIndexOf(':')
  return (colon < 0 ? h : h.slice(0, colon)).replace(/\.$/, '')
}

export function isLoopbackHost (name: string): boolean {
  return LOOPBACK.test(name)
}

/**
 * Whether Origin is the origin of the request itself (the explorer's page
 * served by this server; browsers send Origin on its POSTs and WebSockets):
 * http(s):// and exactly the Host it was sent to. A page of another origin
 * names its own origin, which then differs from Host; on loopback a
 * rebinding name is refused by the Host check below anyway.
 */
export function isSameOrigin (origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false
  const h = host.trim().toLowerCase()
  const o = origin.trim().toLowerCase()
  return o === `http://${h}` || o === `https://${h}`
}

export interface SourceSettings {
  host: string
  corsOrigin: string
  allowedHosts: string
}

/** Returns a check that throws 403 for a disallowed Origin or, on loopback, Host; null when every caller is allowed. */
export function sourceCheck (settings: SourceSettings): ((headers: IncomingHttpHeaders) => void) | null {
  const anyOrigin = settings.corsOrigin === '*'
  const checkHost = isLoopbackHost(settings.host.toLowerCase()) && settings.allowedHosts !== '*'
  const allowed = new Set(settings.allowedHosts === '' ? [] : settings.allowedHosts.split(','))
  if (anyOrigin && !checkHost) return null

  return function checkSource (headers) {
    const origin = headers.origin
    if (origin !== undefined && !anyOrigin && origin !== settings.corsOrigin && !isSameOrigin(origin, headers.host)) {
      throw new ForbiddenOriginError(settings.corsOrigin === ''
        ? `requests from web pages (Origin ${JSON.stringify(origin.slice(0, 100))}) are refused; to allow one, set CORS_ORIGIN to its origin`
        : `origin ${JSON.stringify(origin.slice(0, 100))} is not allowed; CORS_ORIGIN allows ${settings.corsOrigin} only`)
    }
    if (checkHost && headers.host !== undefined) {
      const name = hostName(headers.host)
      if (!isLoopbackHost(name) && !allowed.has(name)) {
        throw new ForbiddenHostError(`host ${JSON.stringify(name.slice(0, 100))} is not served: this server listens on loopback and answers only localhost, 127.x.x.x and [::1]; add the name to ALLOWED_HOSTS to serve it`)
      }
    }
  }
}
