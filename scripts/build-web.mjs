#!/usr/bin/env node
// The explorer's page (web/) built by Vite into dist/web, which
// src/http/explorer-route.ts serves from memory under /ui/ (the page at /):
// one ES module with Preact, uPlot and the page's code, one stylesheet, and
// index.html naming both. No CDN, nothing fetched at run time, and nothing
// the page's CSP refuses: no inline script (the modulepreload polyfill,
// Vite's one inline script, is off), no eval.
//
//   node scripts/build-web.mjs          build (npm run build runs it)
//   node scripts/build-web.mjs --dev    Vite's dev server on :5173 with hot reload,
//                                       proxying the API to a running logagg
//                                       (LOGAGG_URL, default http://127.0.0.1:8000)
//
// Vite is a devDependency: only this script imports it, never the server.

import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, createServer } from 'vite'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The API paths the page calls, sent on to logagg by the dev server (the tail is a WebSocket). */
const API = ['/logs', '/loki', '/healthz']

/** @returns {import('vite').InlineConfig} */
export function webConfig (dev = false) {
  const target = process.env.LOGAGG_URL ?? 'http://127.0.0.1:8000'
  return {
    root: join(root, 'web'),
    // Built, the page's files live under /ui/; the dev server serves the page at / as logagg does.
    base: dev ? '/' : '/ui/',
    configFile: false,
    logLevel: dev ? 'info' : 'warn',
    // JSX in web/src/*.tsx is Preact's (h from preact/jsx-runtime).
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir: join(root, 'dist', 'web'),
      emptyOutDir: true,
      target: 'es2022',
      modulePreload: { polyfill: false },
      // Every file is served from memory, gzipped: no source maps to ship.
      sourcemap: false,
      reportCompressedSize: false
    },
    // The dev server's pre-bundled dependencies, named: its own scan of the sources reads JSX as React's.
    optimizeDeps: { noDiscovery: true, include: ['preact', 'preact/hooks', 'preact/jsx-dev-runtime', 'uplot'] },
    server: {
      proxy: Object.fromEntries(API.map((p) => [p, { target, ws: p === '/loki', changeOrigin: false }]))
    }
  }
}

if (process.argv.includes('--dev')) {
  const server = await createServer(webConfig(true))
  await server.listen()
  server.printUrls()
} else {
  await build(webConfig())
}
