import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsPlugin from 'ajv-formats'

// ajv-formats is CommonJS: its plugin is the default export's `default`.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default

// Checks real answers against openapi/openapi.json: given the method, the
// request path, and the answer (status, headers, body), finds the operation
// whose path template matches, the response documented for the status and
// the media type for the Content-Type, and validates the body against its
// schema with ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses), `$ref`s into
// components resolved. Any mismatch throws, naming what did not fit.

export const OPENAPI_PATH = new URL('../../openapi/openapi.json', import.meta.url)

type Json = any

export interface ApiAnswer {
  status: number
  headers: Headers
  body: Buffer
}

interface Operation { method: string, template: string, op: Json }

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** Follows a local `$ref` (`#/a/b`) until the object is not a reference. */
function deref (doc: Json, node: Json): Json {
  let out = node
  for (let hops = 0; out !== null && typeof out === 'object' && typeof out.$ref === 'string'; hops++) {
    if (hops > 16) throw new Error(`$ref loop at ${String(node.$ref)}`)
    const ref: string = out.$ref
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are read: ${ref}`)
    out = ref.slice(2).split('/').reduce<Json>((o, key) => o?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc)
    if (out === undefined) throw new Error(`$ref ${ref} points nowhere`)
  }
  return out
}

/** The media type without parameters, except the ones that tell formats apart (version=…). */
function mediaKey (type: string): { full: string, base: string } {
  const parts = type.split(';').map((p) => p.trim().toLowerCase()).filter((p) => p !== '' && !p.startsWith('charset='))
  return { full: parts.join('; '), base: parts[0] ?? '' }
}

const isJsonType = (base: string): boolean => base === 'application/json' || base.endsWith('+json')

/** The `data` of each event of a Server-Sent Events text (comments and other fields skipped). */
export function sseData (text: string): string[] {
  const out: string[] = []
  for (const block of text.split('\n\n')) {
    const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart())
    if (data.length > 0) out.push(data.join('\n'))
  }
  return out
}

export class ApiChecker {
  readonly doc: Json
  private readonly ajv: Ajv2020
  private readonly operations: Operation[] = []
  private readonly compiled = new Map<unknown, ValidateFunction>()
  /** `METHOD template` of every operation an answer was checked against. */
  readonly covered = new Set<string>()

  constructor (doc: Json = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'))) {
    this.doc = doc
    // Loki's values are [ns, line] or [ns, line, metadata]: a tuple with an optional last item, which strictTuples refuses.
    this.ajv = new Ajv2020({ strict: true, strictTuples: false, allErrors: true })
    addFormats(this.ajv)
    // The component schemas under one id; the documents' refs point into it.
    this.ajv.addSchema({ $id: 'openapi', $defs: this.rebase(doc.components?.schemas ?? {}) })
    for (const [template, rawItem] of Object.entries<Json>(doc.paths ?? {})) {
      const item = deref(doc, rawItem)
      for (const method of METHODS) if (item[method] !== undefined) this.operations.push({ method, template, op: item[method] })
    }
  }

  /** `METHOD template` of every documented operation. */
  allOperations (): string[] {
    return this.operations.map((o) => `${o.method.toUpperCase()} ${o.template}`)
  }

  /** Refs into components.schemas, rewritten into the registered `openapi` schema. */
  private rebase (schema: Json): Json {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"openapi#/$defs/'))
  }

  private validator (schema: Json): ValidateFunction {
    const held = this.compiled.get(schema)
    if (held !== undefined) return held
    const v = this.ajv.compile(this.rebase(schema))
    this.compiled.set(schema, v)
    return v
  }

  private validate (schema: Json, value: unknown, what: string): void {
    const v = this.validator(schema)
    if (!v(value)) {
      throw new Error(`${what} does not match its schema: ${this.ajv.errorsText(v.errors, { separator: '; ' })}\nvalue: ${JSON.stringify(value).slice(0, 600)}`)
    }
  }

  /** The operation a request reaches: a literal path before a templated one. */
  operation (method: string, path: string): Operation {
    const m = method.toLowerCase()
    const candidates = this.operations
      .filter((o) => o.method === m && new RegExp(`^${o.template.replace(/[.*+?^$()[\]\\|]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`).test(path))
      .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0))
    if (candidates.length === 0) throw new Error(`${method} ${path} is not documented`)
    return candidates[0]!
  }

  /**
   * Checks one answer: its status is documented for the operation, its
   * Content-Type is one the response documents (or it has no body when none
   * is), required headers are present and documented headers match their
   * schemas, and the body validates (JSON; NDJSON and SSE line by line
   * against x-item-schema; text against its string schema).
   */
  check (method: string, path: string, answer: ApiAnswer): void {
    const where = `${method} ${path} → ${answer.status}`
    const { op, template } = this.operation(method, path.split('?')[0]!)
    this.covered.add(`${method.toUpperCase()} ${template}`)
    const rawResponse = op.responses?.[String(answer.status)]
    if (rawResponse === undefined) throw new Error(`${where}: status ${answer.status} is not documented for ${method.toUpperCase()} ${template} (documented: ${Object.keys(op.responses ?? {}).join(', ')}); body: ${answer.body.toString('utf8').slice(0, 300)}`)
    const response = deref(this.doc, rawResponse)

    for (const [name, rawHeader] of Object.entries<Json>(response.headers ?? {})) {
      const header = deref(this.doc, rawHeader)
      const value = answer.headers.get(name)
      if (value === null) {
        if (header.required === true) throw new Error(`${where}: the required header ${name} is missing`)
        continue
      }
      if (header.schema !== undefined) this.validate(header.schema, value, `${where}: header ${name}`)
    }

    const type = answer.headers.get('content-type')
    const content = response.content as Record<string, Json> | undefined
    if (content === undefined || method.toUpperCase() === 'HEAD') {
      if (answer.body.length > 0) throw new Error(`${where}: a body (${type}) where none is documented: ${answer.body.toString('utf8').slice(0, 200)}`)
      return
    }
    if (type === null) throw new Error(`${where}: no Content-Type; documented: ${Object.keys(content).join(', ')}`)
    const { full, base } = mediaKey(type)
    const key = Object.keys(content).find((k) => mediaKey(k).full === full) ?? Object.keys(content).find((k) => mediaKey(k).full === base)
    if (key === undefined) throw new Error(`${where}: Content-Type ${type} is not documented (documented: ${Object.keys(content).join(', ')})`)
    const media = content[key]
    const text = answer.body.toString('utf8')
    if (isJsonType(base)) {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        throw new Error(`${where}: the ${type} body is not JSON: ${text.slice(0, 200)}`)
      }
      this.validate(media.schema, value, `${where}: body`)
    } else if (base === 'application/x-ndjson' || base === 'text/event-stream') {
      if (media['x-item-schema'] === undefined) throw new Error(`${where}: ${key} has no x-item-schema`)
      const items = base === 'text/event-stream' ? sseData(text) : text.split('\n').filter((l) => l !== '')
      items.forEach((item, i) => this.validate(media['x-item-schema'], JSON.parse(item), `${where}: item ${i}`))
      if (media.schema !== undefined) this.validate(media.schema, text, `${where}: body`)
    } else if (base.startsWith('text/')) {
      this.validate(media.schema, text, `${where}: body`)
    }
    // Binary (protobuf; an empty message is zero bytes): the type is documented, the protocol's own tests decode it.
  }

  /** check() for a value rather than an answer: the JSON body a response of `status` may carry. */
  checkJson (method: string, path: string, status: number, body: unknown, type = 'application/json'): void {
    this.check(method, path, { status, headers: new Headers({ 'content-type': type }), body: Buffer.from(JSON.stringify(body)) })
  }
}
