import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { INGEST_PROTOCOLS, protocolAt } from '../../src/http/ingest/registry.js'

// The ingest protocol registry (src/http/ingest/registry.ts): what app.ts
// mounts, what its error handler and 404 text read. Every protocol's paths
// are documented in openapi/openapi.json with the methods it serves.

interface PathItem { $ref?: string, [method: string]: unknown }
const api = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as { paths: Record<string, PathItem>, components: { pathItems: Record<string, PathItem> } }

/** A path item, following a $ref into components.pathItems. */
function item (path: string): PathItem | undefined {
  const found = api.paths[path]
  if (found?.$ref === undefined) return found
  return api.components.pathItems[found.$ref.split('/').pop()!]
}

describe('ingest protocol registry', () => {
  it('names each protocol once, and no path twice', () => {
    const names = INGEST_PROTOCOLS.map((p) => p.name)
    expect(new Set(names).size).toBe(names.length)
    const paths = INGEST_PROTOCOLS.flatMap((p) => p.paths)
    expect(new Set(paths).size).toBe(paths.length)
  })

  it('documents every path of every protocol in the OpenAPI file, with its methods', () => {
    for (const p of INGEST_PROTOCOLS) {
      for (const path of p.paths) {
        const documented = item(path.replace(/:([A-Za-z]+)/g, '{$1}'))
        expect(documented, `${p.name}: ${path} is not in openapi.json`).toBeDefined()
        for (const method of p.methods) expect(documented![method.toLowerCase()], `${p.name}: ${method} ${path}`).toBeDefined()
      }
    }
  })

  it('finds the protocol a request path belongs to, path parameters included', () => {
    expect(protocolAt('/loki/api/v1/push')?.name).toBe('loki')
    expect(protocolAt('/v1/logs')?.name).toBe('otlp')
    expect(protocolAt('/logs')?.name).toBe('logs')
    expect(protocolAt('/insert/jsonline')?.name).toBe('jsonline')
    expect(protocolAt('/_bulk')?.name).toBe('elasticsearch')
    expect(protocolAt('/my-index/_bulk')?.name).toBe('elasticsearch')
    expect(protocolAt('/insert/elasticsearch/my-index/_bulk')?.name).toBe('elasticsearch')
    expect(protocolAt('/a/b/_bulk')).toBeUndefined()
    expect(protocolAt('/loki/api/v1/query_range')).toBeUndefined()
    expect(protocolAt('/logs/tail')).toBeUndefined()
  })
})
