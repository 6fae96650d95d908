import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, nestsDeeper } from '../../src/core/json-depth.js'

describe('nestsDeeper', () => {
  it('counts objects and arrays, not bare values, and stops past the limit', () => {
    expect(nestsDeeper(1)).toBe(false)
    expect(nestsDeeper('x'.repeat(10))).toBe(false)
    expect(nestsDeeper({ a: [1] }, 2)).toBe(false)
    expect(nestsDeeper({ a: [{}] }, 2)).toBe(true)
    expect(nestsDeeper({ a: new Uint8Array(1000) }, 1)).toBe(false)
  })

  it('answers for 1,000,000 levels without overflowing the stack', () => {
    const text = '['.repeat(1_000_000) + ']'.repeat(1_000_000)
    expect(nestsDeeper(JSON.parse(text))).toBe(true)
    const atLimit = JSON.parse('{"a":'.repeat(MAX_JSON_DEPTH - 1) + '{}' + '}'.repeat(MAX_JSON_DEPTH - 1))
    expect(nestsDeeper(atLimit)).toBe(false)
  })
})
