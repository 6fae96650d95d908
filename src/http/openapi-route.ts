import { readFileSync } from 'node:fs'
import { json, type Answer } from './answer.js'

// GET /openapi.json: the OpenAPI 3.1 description of every route, written by
// hand in openapi/openapi.json at the repository's root and served as that
// file. tsc does not copy JSON into dist/, so the path is resolved from the
// compiled module (dist/src/http/) back to the repository's root.

/** Where the document lives, relative to this module once compiled to dist/src/http/. */
export const OPENAPI_FILE = new URL('../../../openapi/openapi.json', import.meta.url)

/**
 * Reads the document once, at start, and returns the handler that serves it.
 * A missing or unparsable file stops the server at start rather than
 * answering 500 later.
 */
export function openapiDocument (file: URL = OPENAPI_FILE): () => Answer {
  const bytes = readFileSync(file)
  try {
    JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new Error(`${file.pathname} is not valid JSON (${(err as Error).message}); fix the file, it is served as GET /openapi.json`)
  }
  const answer = json(200, bytes, { 'cache-control': 'no-cache' })
  return () => answer
}
