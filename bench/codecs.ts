// Which codec the store's sealed blocks use, measured through the codec seam
// on the blocks a shard really seals: each corpus is ingested into a
// ShardStore (50 services, the same density as the query scenarios' million
// entries over 49 minutes), every block is sealed, and each candidate codec
// encodes those same payloads (told where the messages start, as the store
// tells it) and decodes them the way a scan does (both sides apart where the
// codec keeps them apart). Reported: bytes per entry held, and MB/s of
// payload per CPU second compressing and decompressing (CPU time, not wall
// time, so another process on this shared machine matters less), medians of
// interleaved rounds.
//
// Run: npm run build && node dist/bench/codecs.js [entries per corpus, default 200000]
import { brotliCompressSync, brotliDecompressSync, constants as zlib, deflateRawSync, inflateRawSync } from 'node:zlib'
import { putBatch } from '../src/ingest/shard-ingest.js'
import { outputChunk, type BlockCodec } from '../src/store/codec/block-codec.js'
import { CODEC_NAMES, DEFAULT_CODEC, codecByName } from '../src/store/codec/registry.js'
import { ShardStore } from '../src/store/shard-store.js'
import { corpusEntry } from './corpus.js'
import { SERVICES, makeMessage, nowUs, prng } from './data.js'

const ENTRIES = Number(process.argv[2] ?? 200_000)
const ROUNDS = 5
/** 1,000,000 entries over 49 minutes, as the query scenarios preload them. */
const SPACING_US = 49 * 60e6 / 1e6

interface Payload { raw: Buffer, cut: number, n: number }

/** Every block a ShardStore seals from `entries` entries of one corpus, as raw payloads. */
function sealedPayloads (corpus: 'bench' | 'realistic', entries: number): Payload[] {
  const store = new ShardStore({ maxServices: Infinity, codec: DEFAULT_CODEC })
  const rand = prng(42)
  const base = nowUs() - 50 * 60e6
  const streams = SERVICES.map((service) => ({ service, labels: [] }))
  for (let first = 0; first < entries; first += 1000) {
    const idx: number[] = []
    const messages: string[] = []
    const attrCount: number[] = []
    const attrs: string[] = []
    const ts = new Float64Array(1000)
    const seq = new Float64Array(1000)
    for (let k = 0; k < 1000; k++) {
      const t = base + Math.floor((first + k) * SPACING_US)
      ts[k] = t
      seq[k] = first + k + 1
      if (corpus === 'realistic') {
        const e = corpusEntry(rand, t / 1000)
        idx.push(SERVICES.indexOf(e.service))
        messages.push(e.message)
        const pairs = e.attributes === null ? [] : Object.entries(e.attributes).sort(([a], [b]) => a < b ? -1 : 1).flat()
        attrCount.push(pairs.length / 2)
        attrs.push(...pairs)
      } else {
        idx.push(Math.floor(rand() * SERVICES.length))
        messages.push(makeMessage(rand))
        attrCount.push(0)
      }
    }
    store.ingest((sink) => putBatch({ streams, streamIdx: Uint32Array.from(idx), ts, seq, messages, attrCount: Uint8Array.from(attrCount), attrs }, sink))
  }
  store.sealIdle(Date.now() + 1e9, 0)
  const out: Payload[] = []
  for (const block of store.sealedBlocks()) {
    const v = block.view()
    let text = 0
    for (let i = 0; i < v.n; i++) text += v.msgEnd[i]! - v.msgStart[i]!
    const raw = Buffer.from(block.codec.decode(block.data, 0))
    out.push({ raw, cut: raw.length - text, n: v.n })
  }
  return out
}

/** Brotli and deflate settings that are not codecs of the store, measured through the same interface. */
const brotli = (quality: number, lgwin: number): BlockCodec => ({
  id: -1,
  name: `brotli q${quality} lgwin${lgwin} (not a codec)`,
  encode: (p) => brotliCompressSync(p, { params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_LGWIN]: lgwin, [zlib.BROTLI_PARAM_SIZE_HINT]: p.length } }),
  decode: (d, size) => brotliDecompressSync(d, outputChunk(size))
})
const deflate6: BlockCodec = {
  id: -1,
  name: 'deflate level 6 (not a codec)',
  encode: (p) => deflateRawSync(p, { level: 6 }),
  decode: (d, size) => inflateRawSync(d, outputChunk(size))
}
const candidates: BlockCodec[] = [
  ...CODEC_NAMES.filter((n) => n !== 'none').map((n) => codecByName(n)!),
  brotli(2, 18), brotli(5, 18), deflate6
]

const cpuMs = (f: () => void): number => {
  const t = process.cpuUsage()
  f()
  const u = process.cpuUsage(t)
  return (u.user + u.system) / 1000
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

for (const corpus of ['bench', 'realistic'] as const) {
  const payloads = sealedPayloads(corpus, ENTRIES)
  const entries = payloads.reduce((n, p) => n + p.n, 0)
  const rawBytes = payloads.reduce((n, p) => n + p.raw.length, 0)
  const pack: number[][] = candidates.map(() => [])
  const unpack: number[][] = candidates.map(() => [])
  const sizes: number[] = []
  // Rounds interleave the candidates, so a noisy moment does not favour one.
  for (let round = 0; round < ROUNDS; round++) {
    candidates.forEach((codec, c) => {
      let packed: Buffer[] = []
      // A copy of each, as the store keeps one (BlockCodec.encode may hand back memory it reuses).
      pack[c]!.push(cpuMs(() => { packed = payloads.map((p) => Buffer.from(codec.encode(p.raw, p.cut))) }))
      unpack[c]!.push(cpuMs(() => {
        packed.forEach((d, i) => codec.decodeSides !== undefined ? codec.decodeSides(d, payloads[i]!.raw.length) : codec.decode(d, payloads[i]!.raw.length))
      }))
      sizes[c] = packed.reduce((n, d) => n + d.length, 0)
    })
  }
  const mbs = (ms: number): string => (rawBytes / 1e6 / (ms / 1000)).toFixed(0)
  console.log(`\n${corpus} corpus: ${payloads.length} sealed blocks, ${(entries / payloads.length).toFixed(0)} entries each, payload ${(rawBytes / entries).toFixed(1)} B/entry; medians of ${ROUNDS} interleaved rounds, MB/s of payload per CPU second`)
  console.log('| codec | B/entry | compress MB/s | decompress MB/s |\n| --- | ---: | ---: | ---: |')
  candidates.forEach((codec, c) => {
    const name = codec === DEFAULT_CODEC ? `${codec.name} (default)` : codec.name
    console.log(`| ${name} | ${(sizes[c]! / entries).toFixed(1)} | ${mbs(median(pack[c]!))} | ${mbs(median(unpack[c]!))} |`)
  })
}
