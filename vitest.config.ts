import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers with real shard workers; on a 2-core
    // machine running files one at a time keeps them from starving each other.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The explorer's browser tests poll the page for what a person would wait to see; a busy CI
    // machine can take longer than expect.poll's default second (nothing else polls).
    expect: { poll: { timeout: 5000 } }
  }
})
