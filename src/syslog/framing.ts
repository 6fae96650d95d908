// Syslog over TCP (RFC 6587) comes in two framings, and one port takes both,
// frame by frame: octet counting (`76 <133>1 ...`: the length, a space, that
// many bytes) when a frame starts with a digit, else a line ended by LF (CR LF
// too). Bytes between frames that only separate them (LF, CR, NUL) are
// skipped. A frame longer than `maxFrame` is cut there: its first `maxFrame`
// bytes are the frame, the rest is read and dropped, so memory per
// connection stays bounded whatever the sender claims or sends.

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

export class Framer {
  private state = State.Start
  private count = 0
  private digits = 0
  /** Octets still to read of an octet-counted frame. */
  private remaining = 0
  private parts: Buffer[] = []
  private kept = 0
  private truncated = false

  constructor (private readonly maxFrame: number) {}

  /** Bytes of the frame being read (0 between frames). */
  get pending (): number {
    return this.state === State.Start ? 0 : Math.max(this.kept, this.digits)
  }

  /** Feeds bytes; returns the frames they complete, in order. */
  push (chunk: Buffer): Frame[] {
    const out: Frame[] = []
    let i = 0
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
          if (this.remaining === 0) out.push(this.emit())
          break
        }
        case State.Line: {
          const lf = chunk.indexOf(LF, i)
          const end = lf === -1 ? chunk.length : lf
          this.keep(chunk.subarray(i, end))
          i = end
          if (lf !== -1) {
            i++
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

  private keep (piece: Buffer): void {
    const room = this.maxFrame - this.kept
    if (piece.length > room) this.truncated = true
    if (room <= 0) return
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
    return frame
  }
}
