/**
 * Prints, at the end of `npm test`, what the reliability suites tried and how it went: the figures
 * docs/reliability.md quotes, from this run rather than from memory.
 */
import type { Reporter, TestModule } from "vitest/node";

const SUITES: Record<string, string> = {
  "test/integration/faults.test.ts": "fault scenarios through the whole server",
  "test/integration/writes.test.ts": "write scenarios (conflicts, rebases, snapshots)",
  "test/integration/fuzz.test.ts": "argument fuzzing properties",
  "test/integration/hardening.test.ts": "outside-review cases (key, fences, projects, protocol, time)",
  "test/e2e/stdin.test.ts": "stdin garbage, floods and shutdown cases",
  "test/e2e/hardening.test.ts": "bad keys and piped requests over stdio",
  "test/e2e/edit.test.ts": "edit paths and concurrent writers over stdio",
  "test/unit/stdio-transport-schema.test.ts": "transport vs the SDK's schema",
  "test/unit/write-back.test.ts": "write-back properties (untouched blocks deep-equal)",
  "test/e2e/http.test.ts": "Streamable HTTP: two keys, replicas, drain, Host, bodies",
  "test/integration/http-review.test.ts": "Streamable HTTP under an outside review (tenants, caps, queues)",
  "test/e2e/conformance.test.ts": "the official MCP conformance suite (stateful, stateless)",
};

export default class ReliabilityReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of modules) {
      const name = Object.keys(SUITES).find((path) => module.moduleId.endsWith(path));
      if (!name) continue;
      let passed = 0;
      let failed = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
      }
      lines.push(`reliability: ${SUITES[name]} (${name}): ${passed} passed, ${failed} failed`);
    }
    if (lines.length > 0) process.stdout.write(`\n${lines.join("\n")}\n`);
  }
}
