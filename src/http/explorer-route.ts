import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { extname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import express, { type NextFunction, type Request, type Response } from 'express'

// The log explorer (web/, built by Vite in `npm run build` into dist/web): its page
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

/** One file of the page, read once at start: its bytes, gzip-compressed too, its type and tag, and whether its name holds its hash. */
interface WebFile { body: Buffer, gzip: Buffer, type: string, etag: string, immutable: boolean }

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8'
}

/**
 * Every file of dist/web by its path under /ui/ ("index.html", "assets/index-<hash>.js"), in
 * memory (about 100 KB, 40 KB compressed): the page's first load is three answers, gzip when
 * the browser takes it (every browser does), so nothing is read from disk per request. Vite
 * names what it writes under assets/ by its content's hash: those are cached for good.
 */
function readWeb (dir: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>()
  let names: string[]
  try {
    names = readdirSync(dir, { recursive: true, encoding: 'utf8' })
  } catch {
    return files
  }
  for (const name of names) {
    const type = TYPES[extname(name)]
    if (type === undefined) continue
    const body = readFileSync(join(dir, name))
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    const path = name.split(sep).join('/')
    files.set(path, { body, gzip: gzipSync(body, { level: 9 }), type, etag, immutable: path.startsWith('assets/') })
  }
  return files
}

/** Answers a file: 304 when the browser has it, gzip when it accepts gzip, no body to HEAD. */
function sendFile (req: Request, res: Response, file: WebFile, vary = 'Accept-Encoding'): void {
  res.setHeader('content-type', file.type)
  res.setHeader('content-security-policy', EXPLORER_CSP)
  res.setHeader('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
  res.setHeader('etag', file.etag)
  res.setHeader('vary', vary)
  if (req.headers['if-none-match'] === file.etag) {
    res.statusCode = 304
    res.end()
    return
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  const body = gzip ? file.gzip : file.body
  if (gzip) res.setHeader('content-encoding', 'gzip')
  res.setHeader('content-length', body.length)
  res.statusCode = 200
  res.end(req.method === 'HEAD' ? undefined : body)
}

export function explorerRoutes (): express.Router {
  const r = express.Router()
  const files = readWeb(WEB_DIR)
  const page = files.get('index.html')
  // Plain middleware, not r.get('/'): a route would make the router answer OPTIONS / itself (es-route.ts answers it 405).
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next()
      return
    }
    if (req.path === '/') {
      if (!prefersHtml(req)) {
        next()
        return
      }
      if (page === undefined) {
        res.status(404).type('text/plain').send('the explorer is not built: run npm run build\n')
        return
      }
      sendFile(req, res, page, 'Accept, Accept-Encoding')
      return
    }
    const file = req.path.startsWith('/ui/') ? files.get(req.path.slice(4)) : undefined
    if (file === undefined) {
      next()
      return
    }
    sendFile(req, res, file)
  })
  return r
}
