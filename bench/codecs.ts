// Which compression the store's sealed blocks use, measured: each candidate
// compresses the same blocks of 1024 log messages (the bench corpus), and we
// report bytes per entry and MB/s of input, compressing and decompressing.
//
// Run: npm run build && node dist/bench/codecs.js [blocks] [entries per block] [bench|realistic]
import { brotliCompressSync, brotliDecompressSync, constants as C, deflateRawSync, inflateRawSync } from 'node:zlib'
import { compressSync as lz4Compress, uncompressSync as lz4Uncompress } from 'lz4-napi'
import { corpusEntry } from './corpus.js'
import { makeMessage, prng } from './data.js'

const BLOCK = Number(process.argv[3] ?? 1024)
const blocks = Number(process.argv[2] ?? 300)
const realistic = process.argv[4] === 'realistic'
const rand = prng(3)
const input: Buffer[] = []
let raw = 0
for (let b = 0; b < blocks; b++) {
  const lines: string[] = []
  for (let i = 0; i < BLOCK; i++) lines.push(realistic ? corpusEntry(rand, i).message : makeMessage(rand))
  const buf = Buffer.from(lines.join(''))
  raw += buf.length
  input.push(buf)
}

const brotli = (quality: number, lgwin: number) => (b: Buffer): Buffer => brotliCompressSync(b, {
  params: { [C.BROTLI_PARAM_QUALITY]: quality, [C.BROTLI_PARAM_LGWIN]: lgwin, [C.BROTLI_PARAM_SIZE_HINT]: b.length }
})
const candidates: Array<[string, (b: Buffer) => Buffer, (b: Buffer) => Buffer]> = [
  ['brotli q1 lgwin16 (chosen)', brotli(1, 16), (b) => brotliDecompressSync(b)],
  ['brotli q1 lgwin18', brotli(1, 18), (b) => brotliDecompressSync(b)],
  ['brotli q0 lgwin18', brotli(0, 18), (b) => brotliDecompressSync(b)],
  ['brotli q2 lgwin18', brotli(2, 18), (b) => brotliDecompressSync(b)],
  ['deflate (raw) level 1', (b) => deflateRawSync(b, { level: 1 }), (b) => inflateRawSync(b)],
  ['deflate (raw) level 6', (b) => deflateRawSync(b, { level: 6 }), (b) => inflateRawSync(b)],
  ['lz4 (lz4-napi)', (b) => lz4Compress(b), (b) => lz4Uncompress(b)]
]

const ROUNDS = 5
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const packMs: number[][] = candidates.map(() => [])
const unpackMs: number[][] = candidates.map(() => [])
const sizes: number[] = []
// Rounds interleave the candidates, so a noisy moment does not favour one.
for (let round = 0; round < ROUNDS; round++) {
  candidates.forEach(([, pack, unpack], c) => {
    let t = performance.now()
    const packed = input.map(pack)
    packMs[c]!.push(performance.now() - t)
    t = performance.now()
    for (const p of packed) unpack(p)
    unpackMs[c]!.push(performance.now() - t)
    sizes[c] = packed.reduce((n, p) => n + p.length, 0)
  })
}
const mbs = (ms: number): string => (raw / 1e6 / (ms / 1000)).toFixed(0)
console.log(`${realistic ? 'realistic' : 'bench'} corpus: ${blocks} blocks of ${BLOCK} messages, ${(raw / blocks / BLOCK).toFixed(0)} bytes each on average; medians of ${ROUNDS} interleaved rounds`)
console.log('| codec | bytes/entry | compress MB/s | decompress MB/s |\n| --- | ---: | ---: | ---: |')
candidates.forEach(([name], c) => {
  console.log(`| ${name} | ${(sizes[c]! / blocks / BLOCK).toFixed(1)} | ${mbs(median(packMs[c]!))} | ${mbs(median(unpackMs[c]!))} |`)
})
