import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import express, { type NextFunction, type Request, type Response } from 'express'

// The log explorer (web/, built by `npm run build` into dist/web): its page
// at / for browsers and its files under /ui/. Elasticsearch clients also GET /
// (the version handshake) and send `Accept: application/json` or no Accept at
// all, so / answers the page only when the request prefers text/html, as a
// browser's navigation does; everything else falls through to es-route.ts.
// The page and its files carry no data and need no token; what they fetch
// goes through the API's own token and Origin checks.

/** dist/web, beside dist/src (this file is dist/src/http/explorer-route.js once built). */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url))

/**
 * The page's policy: scripts and styles from this server only (no inline
 * script, no eval, no inline style), requests to this origin only, and no
 * string may become markup (Trusted Types with no policy: innerHTML and the
 * like throw), so a log line can only ever be text.
 */
export const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'"
].join('; ')

/** True when the request's Accept ranks text/html above JSON (a browser navigating); no Accept, or `*\/*`, is JSON. */
export function prefersHtml (req: Request): boolean {
  if (req.headers.accept === undefined) return false
  return req.accepts(['application/json', 'text/html']) === 'text/html'
}

function readPage (): Buffer | null {
  try {
    return readFileSync(`${WEB_DIR}index.html`)
  } catch {
    return null
  }
}

export function explorerRoutes (): express.Router {
  const r = express.Router()
  const page = readPage()
  // A plain middleware, not r.get('/'): a route would make the router answer OPTIONS / itself (es-route.ts answers it 405).
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD') || !prefersHtml(req)) {
      next()
      return
    }
    res.setHeader('vary', 'Accept')
    res.setHeader('content-security-policy', EXPLORER_CSP)
    res.setHeader('cache-control', 'no-cache')
    if (page === null) {
      res.status(404).type('text/plain').send('the explorer is not built: run npm run build\n')
      return
    }
    res.status(200).type('text/html; charset=utf-8').send(page)
  })
  r.use('/ui', (_req, res, next) => {
    res.setHeader('content-security-policy', EXPLORER_CSP)
    next()
  }, express.static(WEB_DIR, { index: false, redirect: false, fallthrough: true, etag: true, maxAge: 0 }))
  return r
}
