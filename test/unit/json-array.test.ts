import { describe, expect, it } from 'vitest'
import { ArrayScanner, scanArray } from '../../src/ingest/json-array.js'

/** The element texts of `text`, scanning `slice` characters at a time. */
async function elements (text: string, slice = 3): Promise<string[]> {
  const out: string[] = []
  await scanArray(text, (start, end) => out.push(text.slice(start, end)), slice)
  return out
}

describe('scanArray', () => {
  it('finds each element, trimmed, whatever the whitespace, in slices of any size', async () => {
    const text = ' \n[ {"a":1} ,\t{"b":[1,2,{"c":3}]}\r\n,"s", 42 ,true , null,[] ] \n'
    const expected = ['{"a":1}', '{"b":[1,2,{"c":3}]}', '"s"', '42', 'true', 'null', '[]']
    for (const slice of [1, 2, 7, 1000]) expect(await elements(text, slice)).toEqual(expected)
  })

  it('is not fooled by brackets, commas, quotes or escapes inside strings', async () => {
    const values = [{ message: 'a ] } , [ {' }, { message: 'quote " and \\ backslash \\" ]' }, { message: '\\', service: 'x' }, { message: '日本 😀 \u2028' }]
    const text = JSON.stringify(values)
    expect((await elements(text)).map((e) => JSON.parse(e))).toEqual(values)
    const pretty = JSON.stringify(values, null, 2)
    expect((await elements(pretty, 5)).map((e) => JSON.parse(e))).toEqual(values)
  })

  it('reads an empty array as no elements', async () => {
    expect(await elements('[]')).toEqual([])
    expect(await elements(' [ \n ] ')).toEqual([])
  })

  it('refuses malformed input with 400, saying where', async () => {
    for (const text of ['{"a":1}', '', '   ', '[', '[{"a":1}', '[{"a":"x]', '[1,,2]', '[,1]', '[1,]', '[{"a":1]]', '[{]', '[1] x', '[1]]', '[}]']) {
      await expect(elements(text), JSON.stringify(text)).rejects.toMatchObject({ statusCode: 400, code: 'LOGAGG_ERR_BAD_REQUEST', message: expect.stringMatching(/not valid JSON \(.* at position \d+\)/) })
    }
  })

  it('leaves the content of an element to the shard: junk inside one is one element', async () => {
    expect(await elements('[{"a":1} junk, 2]')).toEqual(['{"a":1} junk', '2'])
  })

  it('stops after the slice it is given, so the caller can yield between slices', () => {
    const found: number[] = []
    const scanner = new ArrayScanner(`[${'1,'.repeat(99)}1]`, (start) => found.push(start))
    expect(scanner.step(20)).toBe(false)
    expect(found.length).toBeLessThan(11)
    while (!scanner.step(20));
    expect(scanner.elements).toBe(100)
  })
})
