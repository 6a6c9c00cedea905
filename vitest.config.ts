import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    // Guards against a hang only: on a busy 2-core machine the slowest tests take several times
    // what they take on an idle one, and no outcome may depend on that.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Network tests only ever target loopback; nothing here reaches the internet.
    reporters: ["default", "./test/reliability-reporter.ts"],
  },
});
