import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers with real shard workers; on a 2-core
    // machine running files one at a time keeps them from starving each other.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
