// Soak: about 60 s of mixed ingest and queries against the real server on
// loopback, then a verdict.
//
//   0-20 s   8 NDJSON batch clients, 2 single-entry clients, 4 query clients
//   ~22 s    read every stored entry back by paging: each acknowledged entry
//            exactly once, nothing that was not acknowledged
//   ~45 s    RETENTION (40 s) has passed and the shards have purged: the store
//            is empty and the server's memory is back near where it started
//
// Run: npm run build && node dist/bench/soak.js   (or npm run soak)
// Exit code 0 on PASS, 1 on FAIL. Every loop is bounded in count and time.
// `npm run soak -- --attack` runs the attack soak of bench/soak-attack.ts instead.
import { setTimeout as sleep } from 'node:timers/promises'
import { startTarget } from './server-fixture.js'
import { attackSoak } from './soak-attack.js'

const RETENTION_S = 40
const LOAD_MS = 20_000
const MAX_ENTRIES = 1_500_000
const SERVICES = 20
const BATCH = 250

interface Tally { acked: number, refused: Record<string, number>, queries: number, queryErrors: number, singles: number }

const mib = (n: number | null): string => (n === null ? 'n/a' : `${(n / 1048576).toFixed(0)} MiB`)

async function main (): Promise<number> {
  const server = await startTarget('logagg', { SHARDS: '2', RETENTION: `${RETENTION_S}s`, PURGE_INTERVAL: '1s' })
  const url = server.url
  const startedAt = Date.now()
  const rssStart = server.rssBytes()
  let rssPeak = rssStart ?? 0
  const acked = new Set<string>()
  const tally: Tally = { acked: 0, refused: {}, queries: 0, queryErrors: 0, singles: 0 }
  const until = startedAt + LOAD_MS
  const refuse = (status: number): void => { tally.refused[status] = (tally.refused[status] ?? 0) + 1 }

  const batchClient = async (c: number): Promise<void> => {
    for (let b = 0; Date.now() < until && tally.acked < MAX_ENTRIES && b < 100_000; b++) {
      const ids: string[] = []
      const lines: string[] = []
      const now = Date.now()
      for (let i = 0; i < BATCH; i++) {
        const id = `b${c}-${b}-${i}`
        ids.push(id)
        // ~5% out of order by up to 2 s.
        const ts = new Date(now - (i % 20 === 0 ? (i * 37) % 2000 : 0)).toISOString()
        lines.push(JSON.stringify({ service: `soak-${(c * 7 + i) % SERVICES}`, timestamp: ts, message: `${id} GET /api/v1/items?page=${i} 200 ${i % 97}ms` }))
      }
      const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
      await res.arrayBuffer()
      if (res.status === 201) {
        for (const id of ids) acked.add(id)
        tally.acked += BATCH
      } else {
        refuse(res.status)
      }
    }
  }

  const singleClient = async (c: number): Promise<void> => {
    for (let i = 0; Date.now() < until && i < 1_000_000; i++) {
      const id = `s${c}-${i}`
      const res = await fetch(`${url}/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: `soak-${i % SERVICES}`, timestamp: new Date().toISOString(), message: `${id} single` })
      })
      await res.arrayBuffer()
      if (res.status === 201) {
        acked.add(id)
        tally.acked++
        tally.singles++
      } else {
        refuse(res.status)
      }
    }
  }

  const queryClient = async (c: number): Promise<void> => {
    for (let i = 0; Date.now() < until && i < 1_000_000; i++) {
      const params = new URLSearchParams({ limit: String(100 + ((i * 131) % 900)), order: i % 2 === 0 ? 'asc' : 'desc' })
      if (i % 3 !== 0) params.append('service', `soak-${(c + i) % SERVICES}`)
      if (i % 5 === 0) params.set('contains', ' 500 ')
      const res = await fetch(`${url}/logs?${params}`)
      await res.arrayBuffer()
      tally.queries++
      if (res.status !== 200) tally.queryErrors++
    }
  }

  const rssTimer = setInterval(() => { rssPeak = Math.max(rssPeak, server.rssBytes() ?? 0) }, 250)
  try {
    process.stderr.write(`soak: load for ${LOAD_MS / 1000} s against ${url}\n`)
    await Promise.all([
      ...Array.from({ length: 8 }, (_, c) => batchClient(c)),
      ...Array.from({ length: 2 }, (_, c) => singleClient(c)),
      ...Array.from({ length: 4 }, (_, c) => queryClient(c))
    ])
    const loadSeconds = (Date.now() - startedAt) / 1000

    // Read everything back, all services merged, in pages.
    process.stderr.write(`soak: reading back ${acked.size} acknowledged entries\n`)
    const seen = new Set<string>()
    let unknown = 0
    let duplicates = 0
    let cursor: string | null = null
    const range = `start=${new Date(startedAt - 60_000).toISOString()}&end=${new Date(Date.now() + 60_000).toISOString()}`
    for (let page = 0; page < 10_000; page++) {
      const res: Response = await fetch(`${url}/logs?limit=10000&${range}${cursor === null ? '' : `&cursor=${cursor}`}`)
      const body = await res.json() as { logs: Array<{ message: string }>, next: string | null }
      for (const e of body.logs) {
        const id = e.message.slice(0, e.message.indexOf(' '))
        if (!acked.has(id)) unknown++
        else if (seen.has(id)) duplicates++
        seen.add(id)
      }
      cursor = body.next
      if (cursor === null) break
    }
    const missing = acked.size - seen.size
    const readBackAt = (Date.now() - startedAt) / 1000
    const expiresAt = readBackAt < RETENTION_S

    // Wait for retention and purge, then check the store emptied and memory came back.
    const rssLoaded = server.rssBytes()
    let services = -1
    for (let i = 0; i < 60 && Date.now() - startedAt < (RETENTION_S + 25) * 1000; i++) {
      await sleep(1000)
      if (Date.now() - startedAt < (RETENTION_S + 3) * 1000) continue
      const res = await fetch(`${url}/services`)
      services = (await res.json() as { services: unknown[] }).services.length
      if (services === 0) break
    }
    await sleep(2000)
    const rssEnd = server.rssBytes()
    const growth = rssPeak - (rssStart ?? 0)
    const returned = rssEnd !== null && rssStart !== null && (rssEnd - rssStart <= growth * 0.5 || rssEnd - rssStart < 64 * 1048576)

    const checks: Array<[string, boolean]> = [
      ['every acknowledged entry was readable', missing === 0],
      ['nothing that was not acknowledged was stored', unknown === 0],
      ['no entry came back twice', duplicates === 0],
      ['read back before any entry could expire', expiresAt],
      ['every query answered 200', tally.queryErrors === 0],
      ['the store emptied after RETENTION', services === 0],
      ['memory came back near its start (within half the growth, or 64 MiB)', returned]
    ]
    console.log('\nSoak results (loopback, 2 shards, RETENTION 40s)')
    console.log(`  load phase               ${loadSeconds.toFixed(1)} s`)
    console.log(`  entries acknowledged     ${tally.acked} (${(tally.acked / loadSeconds).toFixed(0)} /s; ${tally.singles} as single posts)`)
    console.log(`  requests refused         ${JSON.stringify(tally.refused)}`)
    console.log(`  queries                  ${tally.queries} (${tally.queryErrors} not 200)`)
    console.log(`  read back                ${seen.size} distinct, ${missing} missing, ${unknown} unknown, ${duplicates} duplicates`)
    console.log(`  RSS start / peak / loaded / end   ${mib(rssStart)} / ${mib(rssPeak)} / ${mib(rssLoaded)} / ${mib(rssEnd)}`)
    for (const [name, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}`)
    const pass = checks.every(([, ok]) => ok)
    console.log(`\nsoak: ${pass ? 'PASS' : 'FAIL'} in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`)
    return pass ? 0 : 1
  } finally {
    clearInterval(rssTimer)
    await server.stop()
  }
}

const run = process.argv.includes('--attack') ? attackSoak : main
run().then((code) => process.exit(code), (err: unknown) => {
  console.error('soak: error:', err)
  process.exit(1)
})
