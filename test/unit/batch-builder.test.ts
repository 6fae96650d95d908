import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import type { LogRecord } from '../../src/ingest/record.js'
import { BatchBuilder } from '../../src/shards/batch-builder.js'

const rec = (service: string, ts: number, message: string, attributes: string[] | null = null, labels: string[] | null = null): LogRecord =>
  ({ service, ts, message, labels, attributes })

describe('BatchBuilder', () => {
  it('starts empty', () => {
    const b = new BatchBuilder()
    expect(b.size).toBe(0)
    const batch = b.build()
    expect(batch.streams).toEqual([])
    expect(batch.ts.length).toBe(0)
  })

  it('lays records out as columns in the order added, each stream named once', () => {
    const b = new BatchBuilder()
    b.add(rec('api', 10.5, 'one'), 1)
    b.add(rec('db', 20, 'two', ['k', 'v', 'k2', 'v2']), 2)
    b.add(rec('api', 5, 'three'), 3)
    b.add(rec('web', 1_764_280_200_123_456, 'four', null, ['env', 'prod']), 4)
    b.add(rec('web', 6, 'five', ['x', 'y']), 5)
    expect(b.size).toBe(5)
    const batch = b.build()
    expect(batch.streams).toEqual([{ service: 'api', labels: [] }, { service: 'db', labels: [] }, { service: 'web', labels: ['env', 'prod'] }, { service: 'web', labels: [] }])
    expect(batch.streamIdx).toBeInstanceOf(Uint32Array)
    expect(Array.from(batch.streamIdx)).toEqual([0, 1, 0, 2, 3])
    expect(batch.ts).toBeInstanceOf(Float64Array)
    expect(Array.from(batch.ts)).toEqual([10.5, 20, 5, 1_764_280_200_123_456, 6]) // exact: µs fit a double
    expect(Array.from(batch.seq)).toEqual([1, 2, 3, 4, 5])
    expect(batch.messages).toEqual(['one', 'two', 'three', 'four', 'five'])
    expect(Array.from(batch.attrCount)).toEqual([0, 2, 0, 0, 1])
    expect(batch.attrs).toEqual(['k', 'v', 'k2', 'v2', 'x', 'y'])
  })

  it('builds the number columns as views of one buffer of their own, which one transfer moves whole', () => {
    const b = new BatchBuilder()
    b.add(rec('api', 1, 'x'), 7)
    b.add(rec('db', 2, 'y'), 8)
    const batch = b.build()
    const { buffer } = batch.ts
    for (const column of [batch.seq, batch.streamIdx, batch.attrCount]) expect(column.buffer).toBe(buffer)
    expect(buffer.byteLength).toBe(2 * (8 + 8 + 4 + 1))
    const { port1, port2 } = new MessageChannel()
    port1.postMessage(batch, [buffer])
    const received = receiveMessageOnPort(port2)!.message as typeof batch
    port1.close()
    expect(buffer.byteLength).toBe(0) // detached: it moved
    expect(Array.from(received.ts)).toEqual([1, 2])
    expect(Array.from(received.seq)).toEqual([7, 8])
    expect(Array.from(received.streamIdx)).toEqual([0, 1])
    expect(Array.from(received.attrCount)).toEqual([0, 0])
  })
})
