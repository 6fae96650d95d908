#!/usr/bin/env node
// `npm run build`, after tsc -p tsconfig.web.json: puts beside the compiled
// page (dist/web) its HTML and CSS and uPlot's ESM build and CSS, copied from
// node_modules, so the server serves every file itself (no CDN, nothing
// fetched from outside at run time).

import { copyFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'web')
const uplot = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist')

mkdirSync(join(out, 'vendor'), { recursive: true })
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'))
copyFileSync(join(root, 'web', 'style.css'), join(out, 'style.css'))
copyFileSync(join(uplot, 'uPlot.esm.js'), join(out, 'vendor', 'uPlot.esm.js'))
copyFileSync(join(uplot, 'uPlot.min.css'), join(out, 'vendor', 'uPlot.min.css'))
