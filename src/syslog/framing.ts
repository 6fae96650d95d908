// Syslog over TCP (RFC 6587) comes in two framings, and one port takes both,
// frame by frame: octet counting (`76 <133>1 ...`: the length, a space, that
// many bytes) when a frame starts with a digit, else a line ended by LF (CR LF
// too). Bytes between frames that only separate them (LF, CR, NUL) are
// skipped. A frame longer than `maxFrame` is cut there: its first `maxFrame`
// bytes are the frame, the rest is read and dropped, so memory per
// connection stays bounded whatever the sender claims or sends.
//
// A frame that starts with `<` (a syslog PRI) also ends at a NUL: Python's
// SysLogHandler ends each message with one (append_nul, its default), as
// rsyslog reads it. With append_nul=False it sends messages with no trailer
// at all, one right after another; until a connection has ended a frame with
// LF, NUL or an octet count, a `<PRI>` (`<` 1 to 3 digits `>`) inside a
// `<PRI>` frame starts the next frame (rsyslog's heuristic for newline-less
// framing). Such a frame may be complete when the bytes stop: `waiting` says
// so, and the listener ends it after a quiet moment (flush()).

export interface Frame {
  bytes: Buffer
  /** The sender's frame was longer than maxFrame and was cut. */
  truncated: boolean
}

const LF = 10
const CR = 13
const NUL = 0
const SPACE = 32
const ZERO = 48
const NINE = 57
/** An octet count has at most this many digits (RFC 6587 allows any, but 10 digits is 9.3 GB). */
const MAX_COUNT_DIGITS = 10

const enum State { Start, Count, Octets, Line }

const LT = 60
const GT = 62

/** Where a `<PRI>` (`<`, 1 to 3 digits, `>`) starts in chunk[from, to), or -1; only whole ones inside the chunk are seen. */
function priAt (chunk: Buffer, from: number, to: number): number {
  for (let at = chunk.indexOf(LT, from); at !== -1 && at < to; at = chunk.indexOf(LT, at + 1)) {
    let j = at + 1
    while (j < to && j - at <= 3 && chunk[j]! >= ZERO && chunk[j]! <= NINE) j++
    if (j > at + 1 && j < to && chunk[j] === GT) return at
  }
  return -1
}

export class Framer {
  private state = State.Start
  private count = 0
  private digits = 0
  /** Octets still to read of an octet-counted frame. */
  private remaining = 0
  private parts: Buffer[] = []
  private kept = 0
  private truncated = false
  /** The frame being read started with `<`: NUL ends it too. */
  private pri = false
  /** A frame of this connection ended with LF, NUL or an octet count: the sender frames its messages. */
  private delimited = false

  constructor (private readonly maxFrame: number) {}

  /** Bytes of the frame being read (0 between frames). */
  get pending (): number {
    return this.state === State.Start ? 0 : Math.max(this.kept, this.digits)
  }

  /** A `<PRI>` frame of a connection that has not yet delimited a frame: it may be whole already (newline-less senders). */
  get waiting (): boolean {
    return this.state === State.Line && this.pri && !this.delimited && this.kept > 0
  }

  /** Feeds bytes; returns the frames they complete, in order. */
  push (chunk: Buffer): Frame[] {
    const out: Frame[] = []
    let i = 0
    // The chunk's next NUL at or after `i`, found once and kept while frames end before it: a
    // search per frame would scan the rest of a NUL-free chunk each time (quadratic in frames).
    let nul = -2
    while (i < chunk.length) {
      switch (this.state) {
        case State.Start: {
          const c = chunk[i]!
          if (c === LF || c === CR || c === NUL) {
            i++
          } else if (c > ZERO && c <= NINE) {
            this.state = State.Count
            this.count = 0
            this.digits = 0
          } else {
            this.state = State.Line
            this.pri = c === LT
          }
          break
        }
        case State.Count: {
          const c = chunk[i]!
          if (c >= ZERO && c <= NINE && this.digits < MAX_COUNT_DIGITS) {
            this.count = this.count * 10 + (c - ZERO)
            this.digits++
            i++
          } else if (c === SPACE) {
            i++
            this.state = State.Octets
            this.remaining = this.count
            this.digits = 0
          } else {
            // Not an octet count after all: the digits begin a line.
            this.keep(Buffer.from(String(this.count)))
            this.digits = 0
            this.state = State.Line
          }
          break
        }
        case State.Octets: {
          const take = Math.min(this.remaining, chunk.length - i)
          this.keep(chunk.subarray(i, i + take))
          this.remaining -= take
          i += take
          if (this.remaining === 0) {
            this.delimited = true
            out.push(this.emit())
          }
          break
        }
        case State.Line: {
          if (i === 0 && this.pri && !this.delimited && this.kept > 0 && !this.truncated) {
            const next = this.priAcross(chunk)
            if (next !== null) out.push(next)
          }
          let end = chunk.indexOf(LF, i)
          if (end === -1) end = chunk.length
          if (this.pri) {
            if (nul !== -1 && nul < i) nul = chunk.indexOf(NUL, i)
            if (nul !== -1 && nul < end) end = nul
          }
          // Newline-less senders: the next message's <PRI> ends this one (not the <PRI> this frame starts with).
          const next = this.pri && !this.delimited ? priAt(chunk, this.kept === 0 ? i + 1 : i, end) : -1
          if (next !== -1) {
            this.keep(chunk.subarray(i, next))
            i = next
            out.push(this.emit())
            break
          }
          this.keep(chunk.subarray(i, end))
          i = end
          if (end < chunk.length) {
            i++
            this.delimited = true
            out.push(this.emit())
          }
          break
        }
      }
    }
    return out
  }

  /** The frame left unfinished when the connection ends, if any (what was read of it). */
  end (): Frame | null {
    if (this.state === State.Count) this.keep(Buffer.from(String(this.count)))
    if (this.state === State.Start || this.kept === 0) return null
    // A line may simply lack its final LF; an octet-counted frame that stops short was cut.
    return this.emit(this.state === State.Octets)
  }

  /** Ends a waiting frame (see `waiting`) as it stands; null when there is none. */
  flush (): Frame | null {
    return this.waiting ? this.emit() : null
  }

  /**
   * A `<PRI>` cut in two by the chunking: one that starts in the last bytes
   * kept and ends in `chunk`. Then the frame ends before it (returned) and
   * its start begins the next frame.
   */
  private priAcross (chunk: Buffer): Frame | null {
    const joined = Buffer.concat(this.parts.slice(-4)) // parts are never empty: 4 hold the last 4 bytes
    const tail = joined.subarray(Math.max(0, joined.length - 4))
    const probe = Buffer.concat([tail, chunk.subarray(0, 4)])
    for (let p = 0; p < tail.length; p++) {
      if (this.kept - tail.length + p === 0 || priAt(probe, p, probe.length) !== p) continue
      const moved = Buffer.from(tail.subarray(p))
      for (let drop = moved.length; drop > 0;) {
        const last = this.parts.pop()!
        if (last.length > drop) this.parts.push(last.subarray(0, last.length - drop))
        drop -= Math.min(drop, last.length)
      }
      this.kept -= moved.length
      const frame = this.emit()
      this.state = State.Line
      this.pri = true
      this.keep(moved)
      return frame
    }
    return null
  }

  private keep (piece: Buffer): void {
    const room = this.maxFrame - this.kept
    if (piece.length > room) this.truncated = true
    if (room <= 0 || piece.length === 0) return
    const part = piece.length > room ? piece.subarray(0, room) : piece
    this.parts.push(part)
    this.kept += part.length
  }

  private emit (cut = false): Frame {
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept)
    if (this.state === State.Line && bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1)
    const frame = { bytes, truncated: this.truncated || cut }
    this.state = State.Start
    this.parts = []
    this.kept = 0
    this.digits = 0
    this.truncated = false
    this.pri = false
    return frame
  }
}
