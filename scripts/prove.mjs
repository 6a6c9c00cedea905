#!/usr/bin/env node
// The longer run of the generated-document properties (test/property): 50,000 documents per
// property by default, or as many as given (`npm run prove -- 100000`). `npm test` runs 2,000.
import { spawnSync } from "node:child_process";

const runs = Number(process.argv[2] ?? 50_000);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write("usage: npm run prove -- [documents per property]\n");
  process.exit(2);
}
const started = Date.now();
const result = spawnSync(
  process.execPath,
  ["node_modules/vitest/vitest.mjs", "run", "test/property", "test/integration/write-guard.test.ts"],
  {
    stdio: "inherit",
    env: { ...process.env, PROPERTY_RUNS: String(runs) },
  },
);
process.stderr.write(`${runs} documents per property, ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(result.status ?? 1);
