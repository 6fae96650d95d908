import { describe, expect, it } from 'vitest'
import { BatchWriter, MESSAGE_BYTES, readBatch, seqOf, SEQ_SPAN } from '../../../src/cluster/entry-batch.js'
import { pack, unpack } from '../../../src/cluster/wire.js'
import type { LogRecord } from '../../../src/ingest/record.js'

describe('entry batches as JetStream messages', () => {
  it('reads back every record as written: service, labels, timestamp, message, attributes, in order', () => {
    const records: LogRecord[] = [
      { service: 'api', labels: null, ts: 1_700_000_000_000_001, message: 'one', attributes: null },
      { service: 'api', labels: ['env', 'prod'], ts: 1_700_000_000_000_002, message: 'two ✓', attributes: ['k', 'v', 'trace', 'abc'] },
      { service: 'web', labels: null, ts: 1_700_000_000_000_000, message: '', attributes: ['only', 'one'] },
      { service: 'api', labels: null, ts: 3, message: 'again', attributes: null }
    ]
    const w = new BatchWriter()
    for (const r of records) w.add(r)
    const messages = w.messages()
    expect(messages).toHaveLength(1)
    expect(readBatch(messages[0]!)).toEqual(records)
  })

  it('cuts a large batch into messages below MESSAGE_BYTES, keeping the order', () => {
    const w = new BatchWriter()
    const records: LogRecord[] = Array.from({ length: 3000 }, (_, i) => ({ service: `s${i % 5}`, labels: null, ts: i, message: 'x'.repeat(500) + i, attributes: null }))
    for (const r of records) w.add(r)
    const messages = w.messages()
    expect(messages.length).toBeGreaterThan(2)
    for (const m of messages) expect(m.byteLength).toBeLessThan(MESSAGE_BYTES * 1.1)
    expect(messages.flatMap((m) => readBatch(m))).toEqual(records)
  })

  it('makes no message of nothing, and refuses bytes that are not a batch', () => {
    expect(new BatchWriter().messages()).toEqual([])
    expect(() => readBatch(pack({ hello: 1 }))).toThrow(/not a logagg entry batch/)
  })

  it('numbers entries by stream sequence, rising across messages and unique', () => {
    expect(seqOf(2, 0)).toBeGreaterThan(seqOf(1, SEQ_SPAN - 1))
    expect(seqOf(2 ** 32, SEQ_SPAN - 1)).toBeLessThan(Number.MAX_SAFE_INTEGER)
  })

  it('carries typed arrays as themselves, aligned, whatever their offset in the message', () => {
    const part = { ts: Float64Array.from([1.5, 2]), ends: Uint32Array.from([3, 9]), body: new TextEncoder().encode('abc'), flag: true }
    const bytes = pack({ pad: 'x', part })
    // As NATS hands it: a Buffer at an odd offset of a larger one.
    const odd = Buffer.concat([Buffer.from([1]), Buffer.from(bytes)]).subarray(1)
    const back = unpack<{ part: typeof part }>(odd).part
    expect(back.ts).toBeInstanceOf(Float64Array)
    expect([...back.ts]).toEqual([1.5, 2])
    expect(back.ends).toBeInstanceOf(Uint32Array)
    expect([...back.ends]).toEqual([3, 9])
    expect(Buffer.from(back.body).toString()).toBe('abc')
    expect(back.flag).toBe(true)
  })
})
