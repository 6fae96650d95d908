import { describe, expect, it } from 'vitest'
import { corpusBody, corpusStats } from '../../bench/corpus.js'
import { SERVICES } from '../../bench/data.js'
import { project, type ThreadCpu } from '../../bench/thread-cpu.js'

// The benchmark's realistic corpus and its scaling projection: pure helpers,
// tested here so a change to them cannot silently change what the figures mean.

const opts = { seed: 5, startUs: 1.7e15, spacingUs: 100, attributes: true }

describe('realistic corpus', () => {
  it('is deterministic for a seed', () => {
    expect(corpusBody(200, opts).text).toBe(corpusBody(200, opts).text)
    expect(corpusBody(200, { ...opts, seed: 6 }).text).not.toBe(corpusBody(200, opts).text)
  })

  it('has the advertised shape: ~196 message bytes, ~2% stack traces, a third with attributes', () => {
    const stats = corpusStats(20_000)
    expect(stats.messageBytesPerEntry).toBeGreaterThan(185)
    expect(stats.messageBytesPerEntry).toBeLessThan(207)
    expect(stats.stackTraces).toBeGreaterThan(0.01)
    expect(stats.stackTraces).toBeLessThan(0.03)
    expect(stats.withAttributes).toBeGreaterThan(0.3)
    expect(stats.withAttributes).toBeLessThan(0.37)
  })

  it('makes NDJSON lines in the {service, timestamp, message} contract, attributes optional', () => {
    const body = corpusBody(500, opts)
    const lines = body.text.trimEnd().split('\n')
    expect(lines).toHaveLength(500)
    let bytes = 0
    let withAttributes = 0
    lines.forEach((line, k) => {
      const e = JSON.parse(line) as { service: string, timestamp: string, message: string, attributes?: Record<string, unknown> }
      expect(SERVICES).toContain(e.service)
      expect(e.timestamp).toBe(new Date(Math.floor((opts.startUs + k * opts.spacingUs) / 1000)).toISOString().slice(0, 23) + e.timestamp.slice(23))
      // The quick service look-up of the NDJSON router must see the service first.
      expect(line.startsWith(`{"service":"${e.service}","timestamp":"`)).toBe(true)
      bytes += Buffer.byteLength(e.message)
      if (e.attributes !== undefined) {
        withAttributes++
        for (const v of Object.values(e.attributes)) expect(typeof v).toBe('string')
      }
    })
    expect(bytes).toBe(body.messageBytes)
    expect(withAttributes).toBeGreaterThan(0)
    expect(corpusBody(500, { ...opts, attributes: false }).text).not.toContain('"attributes"')
  })
})

describe('scaling projection', () => {
  const cpu: ThreadCpu = { entries: 1e6, wallSeconds: 3, fronts: 1, frontUs: 2, shardsUs: 4, otherUs: 1, threads: [] }

  it('splits the cores between front threads and shards where the lower bound is highest', () => {
    // 4 cores: 1 front → min(500k, 3 × 200k) = 500k; 2 fronts → min(1M, 400k) = 400k.
    expect(project(cpu, 4)).toEqual({ cores: 4, fronts: 1, frontBound: 500_000, shardBound: 600_000, projected: 500_000 })
    // 16 cores: 3 fronts → min(1.5M, 13 × 200k = 2.6M) = 1.5M; 5 → min(2.5M, 2.2M) = 2.2M; 4 → min(2M, 2.4M) = 2M.
    expect(project(cpu, 16)).toEqual({ cores: 16, fronts: 5, frontBound: 2_500_000, shardBound: 2_200_000, projected: 2_200_000 })
    expect(project({ ...cpu, frontUs: 1 }, 4).projected).toBe(600_000)
  })
})
