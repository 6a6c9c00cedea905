import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Network tests only ever target loopback; nothing here reaches the internet.
    reporters: ["default", "./test/reliability-reporter.ts"],
  },
});
