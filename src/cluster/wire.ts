import { ExtensionCodec, decode, encode } from '@msgpack/msgpack'

// The bytes that cross NATS: msgpack, with typed arrays as extension types
// (msgpack's own bin would bring every one back as a Uint8Array). A query
// part's columns and an entry batch's numbers so travel as their bytes,
// one copy each way.

type Typed = Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array
const KINDS: ReadonlyArray<{ type: number, View: new (buffer: ArrayBuffer) => Typed, test: (v: unknown) => boolean }> = [
  { type: 1, View: Float64Array, test: (v) => v instanceof Float64Array },
  { type: 2, View: Uint32Array, test: (v) => v instanceof Uint32Array },
  { type: 3, View: Int32Array, test: (v) => v instanceof Int32Array },
  { type: 4, View: Uint16Array, test: (v) => v instanceof Uint16Array }
]

const codec = new ExtensionCodec()
for (const kind of KINDS) {
  codec.register({
    type: kind.type,
    encode: (value: unknown) => {
      if (!kind.test(value)) return null
      const v = value as Typed
      return new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    },
    // The bytes sit at any offset of the message (a Buffer, whose slice() is a view); a copy aligns them.
    decode: (data: Uint8Array) => new kind.View(new Uint8Array(data).buffer)
  })
}

/** msgpack bytes of `value`; undefined fields are left out (as a structured clone keeps them absent). */
export function pack (value: unknown): Uint8Array {
  return encode(value, { extensionCodec: codec, ignoreUndefined: true })
}

export function unpack<T> (bytes: Uint8Array): T {
  return decode(bytes, { extensionCodec: codec }) as T
}
