import { describe, expect, it } from 'vitest'
import { FAKE_TENANT, parseOrgIds, serviceOfStored, storedService, tenantIdProblem, tenantOfStored } from '../../src/tenants/tenant-id.js'
import { LOKI_DEFAULTS, LimitsFileError, LimitsTable, lokiDuration } from '../../src/tenants/limits-file.js'
import { MB, TenantBuckets } from '../../src/tenants/rate-limit.js'
import { TokenTable, TokensFileError } from '../../src/tenants/tokens-file.js'
import { ShardStore } from '../../src/store/shard-store.js'

// The pure parts of tenants: ids and stored names, the tokens and limits
// files' checks, the token bucket on a clock the test owns, and a store's
// listings kept apart by tenant.

describe('tenant ids (dskit rules)', () => {
  it('accepts letters, digits and ! - _ . * \' ( ) up to 150 characters, not . or ..', () => {
    expect(tenantIdProblem("team-A_1.!*'()")).toBeNull()
    expect(tenantIdProblem('x'.repeat(150))).toBeNull()
    expect(tenantIdProblem('x'.repeat(151))).toContain('too long')
    expect(tenantIdProblem('a/b')).toContain("unsupported character '/'")
    expect(tenantIdProblem('a b')).toContain("unsupported character ' '")
    expect(tenantIdProblem('.')).toContain("'.' or '..'")
    expect(tenantIdProblem('..')).toContain("'.' or '..'")
    expect(tenantIdProblem('')).toContain('empty')
  })

  it('parses a|b sorted without repeats, and names the first bad one', () => {
    expect(parseOrgIds('b|a|b')).toEqual(['a', 'b'])
    expect(parseOrgIds('a||b')).toContain('empty')
    expect(parseOrgIds('a|b/c')).toContain("'/'")
  })

  it('stores tenant fake without a prefix, others as tenant U+001F service', () => {
    expect(storedService(FAKE_TENANT, 'api')).toBe('api')
    expect(storedService('t', 'api')).toBe('t\u001fapi')
    expect([tenantOfStored('t\u001fapi'), serviceOfStored('t\u001fapi')]).toEqual(['t', 'api'])
    expect([tenantOfStored('api'), serviceOfStored('api')]).toEqual([FAKE_TENANT, 'api'])
  })
})

describe('a store with several tenants', () => {
  it('lists each tenant\'s services apart, by their own names, and pages within them', () => {
    const store = new ShardStore()
    for (const [tenant, service] of [['fake', 'api'], ['b', 'api'], ['b', 'db'], ['a', 'web'], ['fake', 'zeta'], ['c', 'x']] as const) {
      const stream = store.streamFor(storedService(tenant, service), [])!
      store.add(stream, 1000, 1, 'm', null, 0)
    }
    const names = (tenant: string, after: string | null = null, limit = 10): [string[], boolean] => {
      const page = store.listServices(after, limit, tenant)
      return [page.services.map((s) => s.service), page.complete]
    }
    expect(names('fake')).toEqual([['api', 'zeta'], true])
    expect(names('b')).toEqual([['api', 'db'], true])
    expect(names('b', null, 1)).toEqual([['api'], false])
    expect(names('b', 'api', 1)).toEqual([['db'], true])
    expect(names('fake', 'api', 1)).toEqual([['zeta'], true])
    expect(names('none')).toEqual([[], true])
    const streams = store.listStreams(0, 1e9, null, 10, ['a', 'b'])
    expect(streams.streams.map((s) => s.labels).sort()).toEqual([
      ['__tenant_id__', 'a', 'service', 'web'],
      ['__tenant_id__', 'b', 'service', 'api'],
      ['__tenant_id__', 'b', 'service', 'db']
    ])
  })
})

describe('TOKENS_FILE', () => {
  const file = 'tokens:\n  - token: "aaaaaaaaaaaaaaaa1"\n    tenants: [a]\n    scopes: [ingest]\n  - token: "bbbbbbbbbbbbbbbb2"\n    tenants: ["*"]\n    scopes: [query, metrics]\n'

  it('finds a token\'s grant, and nothing for another token', () => {
    const table = TokenTable.parse(file)
    expect(table.size).toBe(2)
    expect([...table.lookup('aaaaaaaaaaaaaaaa1')!.tenants!]).toEqual(['a'])
    expect(table.lookup('bbbbbbbbbbbbbbbb2')!.tenants).toBeNull()
    expect([...table.lookup('bbbbbbbbbbbbbbbb2')!.scopes]).toEqual(['query', 'metrics'])
    expect(table.lookup('aaaaaaaaaaaaaaaa')).toBeNull()
  })

  it('refuses a file with any problem, naming where', () => {
    const bad = (text: string): string => {
      try {
        TokenTable.parse(text)
      } catch (err) {
        expect(err).toBeInstanceOf(TokensFileError)
        return (err as Error).message
      }
      throw new Error('parsed')
    }
    expect(bad('tokens: [')).toContain('not valid YAML')
    expect(bad('other: 1')).toContain('unknown key "other"')
    expect(bad('tokens:\n  - token: short\n    tenants: [a]\n    scopes: [query]\n')).toContain('tokens[0].token must be')
    expect(bad(`${file}  - token: "aaaaaaaaaaaaaaaa1"\n    tenants: [b]\n    scopes: [query]\n`)).toContain('tokens[2].token is listed twice')
    expect(bad('tokens:\n  - token: "cccccccccccccccc3"\n    tenants: []\n    scopes: [query]\n')).toContain('tokens[0].tenants must be a non-empty list')
    expect(bad('tokens:\n  - token: "cccccccccccccccc3"\n    tenants: [a]\n    scopes: [write]\n')).toContain('"write" is not one of ingest, query, metrics, admin')
    expect(bad('tokens:\n  - token: "cccccccccccccccc3"\n    tenants: [a]\n    scopes: [query]\n    extra: 1\n')).toContain('unknown key "extra"')
  })
})

describe('LIMITS_FILE', () => {
  const HOUR = 3_600_000

  it('reads Loki\'s keys: defaults over Loki\'s, overrides over the defaults', () => {
    const table = LimitsTable.parse('defaults:\n  ingestion_rate_mb: 8\n  max_line_size: 1KB\noverrides:\n  a:\n    ingestion_burst_size_mb: 20\n    retention_period: 2h\n    max_query_length: 30d1h\n', 24 * HOUR)
    expect(table.of('other')).toEqual({ ...LOKI_DEFAULTS, ingestionRateMb: 8, maxLineSize: 1024 })
    expect(table.of('a')).toEqual({ ...LOKI_DEFAULTS, ingestionRateMb: 8, maxLineSize: 1024, ingestionBurstSizeMb: 20, retentionPeriodMs: 2 * HOUR, maxQueryLengthMs: 721 * HOUR })
    expect(LimitsTable.parse('', HOUR).of('x')).toEqual(LOKI_DEFAULTS)
  })

  it('reads retention_stream rules and keeps retention within 1m and RETENTION', () => {
    const table = LimitsTable.parse("overrides:\n  a:\n    retention_stream:\n      - selector: '{service=\"debug\"}'\n        priority: 1\n        period: 1h\n", 24 * HOUR)
    expect(table.of('a').retentionStream).toEqual([{ selector: '{service="debug"}', matchers: [{ name: 'service', op: '=', value: 'debug' }], priority: 1, periodMs: HOUR }])
    const bad = (text: string): string => {
      try {
        LimitsTable.parse(text, 24 * HOUR)
      } catch (err) {
        expect(err).toBeInstanceOf(LimitsFileError)
        return (err as Error).message
      }
      throw new Error('parsed')
    }
    expect(bad('defaults:\n  retention_period: 30s\n')).toContain('shorter than the 1m')
    expect(bad('defaults:\n  retention_period: 25h\n')).toContain('longer than RETENTION')
    expect(bad("defaults:\n  retention_stream:\n    - selector: '{service=\"x\"} |= \"y\"'\n      period: 1h\n")).toContain('a stream selector alone')
    expect(bad('defaults:\n  max_lines: 3\n')).toContain('unknown limit "max_lines"')
    expect(bad('overrides:\n  "a/b":\n    max_query_series: 3\n')).toContain("unsupported character '/'")
    expect(bad('defaults:\n  max_query_series: 0\n')).toContain('a whole number of at least 1')
  })

  it('reads durations as Loki writes them', () => {
    expect(lokiDuration('721h')).toBe(721 * HOUR)
    expect(lokiDuration('1h30m')).toBe(1.5 * HOUR)
    expect(lokiDuration('0')).toBe(0)
    expect(lokiDuration('1.5h')).toBeNaN()
  })
})

describe('the ingestion token bucket', () => {
  it('holds the burst, refills at the rate, and says when a request would fit', () => {
    let now = 0
    const buckets = new TenantBuckets(1, () => now)
    expect(buckets.take('t', 2 * MB, 1, 3)).toBeNull()
    expect(buckets.take('t', 1 * MB, 1, 3)).toBeNull()
    const refused = buckets.take('t', 2 * MB, 1, 3)
    expect(refused).toEqual({ retryAfter: 2, rateBytes: MB, burstBytes: 3 * MB })
    now += 2000
    expect(buckets.take('t', 2 * MB, 1, 3)).toBeNull()
    // Larger than the burst: never.
    expect(buckets.take('t', 4 * MB, 1, 3)!.retryAfter).toBeNull()
    // Tenants do not share a bucket; a front's share splits both numbers.
    expect(buckets.take('u', 3 * MB, 1, 3)).toBeNull()
    const half = new TenantBuckets(0.5, () => now)
    expect(half.take('t', 2 * MB, 1, 3)!.burstBytes).toBe(1.5 * MB)
  })
})
