import { describe, expect, it } from 'vitest'
import { BatchBuilder } from '../../src/shards/batch-builder.js'

describe('BatchBuilder', () => {
  it('starts empty', () => {
    const b = new BatchBuilder()
    expect(b.size).toBe(0)
    const batch = b.build()
    expect(batch.services).toEqual([])
    expect(batch.ts.length).toBe(0)
  })

  it('lays entries out as columns in the order added, each service named once', () => {
    const b = new BatchBuilder()
    b.add('api', 10.5, 1, 'one')
    b.add('db', 20, 2, 'two')
    b.add('api', 5, 3, 'three')
    b.add('web', 1_764_280_200_123_456, 4, 'four')
    expect(b.size).toBe(4)
    const batch = b.build()
    expect(batch.services).toEqual(['api', 'db', 'web'])
    expect(batch.serviceIdx).toBeInstanceOf(Uint32Array)
    expect(Array.from(batch.serviceIdx)).toEqual([0, 1, 0, 2])
    expect(batch.ts).toBeInstanceOf(Float64Array)
    expect(Array.from(batch.ts)).toEqual([10.5, 20, 5, 1_764_280_200_123_456]) // exact: µs fit a double
    expect(Array.from(batch.seq)).toEqual([1, 2, 3, 4])
    expect(batch.messages).toEqual(['one', 'two', 'three', 'four'])
  })

  it('builds typed arrays with their own buffers, safe to transfer', () => {
    const b = new BatchBuilder()
    b.add('api', 1, 1, 'x')
    const batch = b.build()
    expect(batch.ts.buffer).not.toBe(batch.seq.buffer)
    expect(batch.ts.buffer.byteLength).toBe(8)
    expect(batch.serviceIdx.buffer.byteLength).toBe(4)
  })
})
