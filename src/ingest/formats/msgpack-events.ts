import { DecodeError, ExtensionCodec, decodeMulti } from '@msgpack/msgpack'
import { MalformedBodyError } from '../../core/errors.js'
import { unixToMicros } from '../../core/timestamp.js'

// Fluent Bit's http output in its default format: msgpack events one after
// another, each [time, record] or (Fluent Bit 2.1+) [[time, metadata],
// record]; an array of such events is read too. time is Fluentd's EventTime
// (extension type 0: seconds and nanoseconds, 4 bytes each, big-endian) or a
// number of seconds. Decoding is @msgpack/msgpack's; only EventTime is ours.

export interface MsgpackEvent {
  /** Epoch µs. */
  ts: number
  record: unknown
}

const EVENT_TIME = 0

/** An EventTime, already in µs (kept apart from plain numbers, which are Unix times in any unit). */
class Micros { constructor (readonly us: number) {} }

const codec = new ExtensionCodec()
codec.register({
  type: EVENT_TIME,
  encode: () => null,
  decode: (data: Uint8Array) => {
    if (data.length !== 8) throw new DecodeError(`EventTime must be 8 bytes; got ${data.length}`)
    const view = new DataView(data.buffer, data.byteOffset, 8)
    return new Micros(view.getUint32(0) * 1e6 + Math.floor(view.getUint32(4) / 1000))
  }
})

const malformed = (what: string): Error => new MalformedBodyError(`the msgpack body is not valid: ${what}; send Fluent Bit events, [time, record] or [[time, metadata], record]`)

function eventTime (t: unknown): number {
  if (t instanceof Micros) return t.us
  if (typeof t === 'number') return unixToMicros(t)
  return NaN
}

/** Binary strings (msgpack bin) as UTF-8 text, everywhere in a record. */
function text (v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')
  if (v instanceof Micros) return v.us
  if (Array.isArray(v)) return v.map(text)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const k in v as Record<string, unknown>) out[k] = text((v as Record<string, unknown>)[k])
    return out
  }
  return v
}

const isEvent = (v: unknown): v is [unknown, unknown] =>
  Array.isArray(v) && v.length === 2 && v[1] !== null && typeof v[1] === 'object' && !Array.isArray(v[1]) && !(v[1] instanceof Uint8Array)

function event (v: unknown, where: string): MsgpackEvent {
  if (!isEvent(v)) throw malformed(`${where} is not an event`)
  const [head, record] = v
  const ts = eventTime(Array.isArray(head) ? head[0] : head)
  if (Number.isNaN(ts)) throw malformed(`${where} has no usable time (EventTime or Unix seconds)`)
  return { ts, record: text(record) }
}

/**
 * Every event of the body, in order; throws MalformedBodyError (400) when it
 * does not decode, or at the end when it held none.
 */
export function * msgpackEvents (body: Uint8Array): Generator<MsgpackEvent> {
  const values = decodeMulti(body, { extensionCodec: codec })
  let n = 0
  for (;;) {
    let next: IteratorResult<unknown>
    try {
      next = values.next()
    } catch (err) {
      throw malformed(`value ${n} does not decode (${(err as Error).message.slice(0, 200)})`)
    }
    if (next.done === true) break
    const value = next.value
    if (Array.isArray(value) && value.length > 0 && value.every(Array.isArray) && !isEvent(value)) {
      for (let i = 0; i < value.length; i++) yield event(value[i], `value ${n} item ${i}`)
    } else {
      yield event(value, `value ${n}`)
    }
    n++
  }
  if (n === 0) throw malformed('it holds no events')
}
