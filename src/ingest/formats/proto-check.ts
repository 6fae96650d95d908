import { isUtf8 } from 'node:buffer'
import protobuf from 'protobufjs'

// Checks a protobuf message's wire format against its schema without
// decoding it: every field of a known number has the wire type its type
// says, every message field is checked in turn, every length stays inside its
// message, every string is UTF-8. What the front thread runs over a push body whose streams the
// shards decode, so that nothing they decode can fail (a body that does not
// decode stores nothing). protobufjs's reflection gives the schema, its
// Reader the wire format.

/**
 * Checks the message of `type` from r.pos to `end`, leaving r at `end`;
 * throws a RangeError that says where the bytes are broken. Unknown fields
 * are skipped, as decoding skips them. Messages may nest `maxDepth` deep
 * inside this one: protobufjs's decoder refuses more than
 * Reader.recursionLimit (100, protoc's default) below the one it decodes.
 */
export function checkMessage (type: protobuf.Type, r: protobuf.Reader, end: number, maxDepth: number, depth = 0): void {
  if (depth > maxDepth) throw new RangeError(`messages nested more than ${maxDepth} deep in a ${type.name}`)
  if (end > r.len) throw new RangeError(`a ${type.name} runs past the end of the body`)
  while (r.pos < end) {
    const tag = r.uint32()
    const wire = tag & 7
    if (tag >>> 3 === 0) throw new RangeError(`a ${type.name} has a field numbered 0`)
    const field = type.fieldsById[tag >>> 3]
    if (field === undefined) {
      // As the decoder skips it: a group must end with its own field number.
      r.skipType(wire, depth, tag >>> 3)
      continue
    }
    const resolved = field.resolve().resolvedType
    if (resolved instanceof protobuf.Type) {
      if (wire !== 2) throw new RangeError(`${type.name}.${field.name} is a message but came with wire type ${wire}`)
      const length = r.uint32()
      checkMessage(resolved, r, r.pos + length, maxDepth, depth + 1)
      continue
    }
    const expected = resolved instanceof protobuf.Enum ? 0 : (protobuf.types.basic as Record<string, number>)[field.type]
    // A repeated number field may come packed, as one length-delimited run.
    if (wire !== expected && !(field.repeated && wire === 2 && expected !== 2)) {
      throw new RangeError(`${type.name}.${field.name} came with wire type ${wire}, not ${String(expected)}`)
    }
    if (expected !== 2) {
      // A number is read as the decoder reads it (a varint of more than 10 bytes fails there), packed ones each in turn.
      const read = (r as unknown as Record<string, () => unknown>)[resolved instanceof protobuf.Enum ? 'int32' : field.type]!
      if (wire === 2) {
        const stop = r.uint32() + r.pos
        if (stop > end) throw new RangeError(`${type.name}.${field.name} runs past its message`)
        while (r.pos < stop) read.call(r)
        if (r.pos !== stop) throw new RangeError(`${type.name}.${field.name}'s packed values run past their length`)
      } else {
        read.call(r)
      }
      continue
    }
    if (field.type === 'string') {
      // protobufjs's decoder refuses a string that is not UTF-8 (proto3 strings must be).
      const length = r.uint32()
      const start = r.pos
      if (start + length > r.len) throw new RangeError(`${type.name}.${field.name} runs past the end of the body`)
      if (!isUtf8(r.buf.subarray(start, start + length))) throw new RangeError(`${type.name}.${field.name} is not valid UTF-8`)
      r.pos = start + length
      continue
    }
    r.skipType(wire)
  }
  if (r.pos !== end) throw new RangeError(`a ${type.name}'s fields run past its length`)
}
