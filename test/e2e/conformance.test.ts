/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance) against the built server
 * in Streamable HTTP mode with its sandbox: `node dist/index.js --http --sandbox --port 0`, with
 * sessions and `--stateless`, each against both requirement sets (`--requirements 2025-11-25`,
 * run on the 2025 wire, and `--requirements 2026-07-28`, on the 2026 wire).
 *
 * The suite needs Node 22 (it uses fs.globSync) and lives in a package of its own,
 * test/conformance/, which also installs Node 22 from npm (the `node` package): in the root
 * package, that dependency would take over `node` in every npm script, and `npm test` has to keep
 * testing the Node this machine runs. Its node_modules is installed here on first use (`npm ci`,
 * which needs the registry once).
 *
 * The suite's own verdict decides (exit code 0: every failing scenario is in the baseline, and no
 * baseline entry passes); then each scenario's checks.json is read to make sure that every scenario
 * that applies to this server passed with no FAILURE and no WARNING, and that the scenarios it
 * passes in part fail only the checks that call the suite's own fixtures (as a minimal SDK v2
 * server with none of them does).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { assertBuilt, childEnv } from "../helpers/binary.js";
import { CLI, ensureSuite, NODE22, SUITE } from "../helpers/conformance-package.js";
import { type HttpServer, startHttpServer } from "../helpers/http-server.js";

/** What this server does and the suite checks, by revision: every one must pass, with no warning. */
const APPLICABLE: Record<string, string[]> = {
  "2025-11-25": [
    "server-initialize",
    "ping",
    "completion-complete",
    "tools-list",
    "resources-list",
    "dns-rebinding-protection",
  ],
  "2026-07-28": [
    "completion-complete",
    "tools-list",
    "resources-list",
    "sep-2164-resource-not-found",
    "dns-rebinding-protection",
    "http-header-validation",
  ],
};
/** What needs a 2025 session (a stateless server does not advertise log messages or subscriptions). */
const STATEFUL_ONLY: Record<string, string[]> = {
  "2025-11-25": [
    "logging-set-level",
    "resources-subscribe",
    "resources-unsubscribe",
    "server-sse-multiple-streams",
    "server-session-lifecycle",
  ],
  "2026-07-28": [],
};
/**
 * Scenarios in the baseline that this server passes in part: the checks it fails, each of which
 * calls a fixture of the suite's (test_missing_capability, test_streaming_elicitation,
 * test_logging_tool, prompts), as they do for a minimal SDK v2 server.
 */
const PARTIAL: Record<string, string[]> = {
  "server-stateless": [
    "sep-2575-server-rejects-undeclared-capability",
    "sep-2575-missing-capability-http-400",
    "sep-2575-http-server-no-independent-requests-on-stream",
    "sep-2575-server-no-log-without-loglevel",
  ],
  caching: ["sep-2549-prompts-list-caching-hints"],
};
/**
 * With sessions kept, 2026 listen streams deliver list changes, so `tools.listChanged` is
 * advertised, and the suite asks its fixture tool test_trigger_tool_change to change the tool list
 * (a warning: no such tool here), as it does of a minimal SDK v2 server, which advertises it too.
 */
const PARTIAL_LISTENING: Record<string, string[]> = {
  "server-stateless": [
    ...(PARTIAL["server-stateless"] ?? []),
    "sep-2575-server-sends-tools-list-changed-on-subscription",
  ],
};

const servers: HttpServer[] = [];
let out: string;

beforeAll(async () => {
  assertBuilt();
  out = await mkdtemp(join(tmpdir(), "posthog-notebooks-conformance-"));
  await ensureSuite();
}, 600_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
  if (out) await rm(out, { recursive: true, force: true });
});

/** `server-<scenario>-<ISO timestamp>` → scenario */
const scenarioOf = (dir: string) => dir.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT.*$/, "");

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
}

async function baseline(file: string): Promise<string[]> {
  // The file is a plain list (server: then "  - name" lines); no YAML parser in the root package.
  const text = await readFile(file, "utf8");
  return [...text.matchAll(/^\s+-\s+([\w-]+)\s*$/gm)].map((m) => m[1] as string);
}

describe("the MCP conformance suite, over Streamable HTTP with the sandbox", () => {
  it.for([
    { mode: "stateful", args: [], requirements: "2025-11-25", file: "expected-failures-2025-11-25.yml" },
    {
      mode: "stateless",
      args: ["--stateless"],
      requirements: "2025-11-25",
      file: "expected-failures-2025-11-25-stateless.yml",
    },
    { mode: "stateful", args: [], requirements: "2026-07-28", file: "expected-failures-2026-07-28.yml" },
    {
      mode: "stateless",
      args: ["--stateless"],
      requirements: "2026-07-28",
      file: "expected-failures-2026-07-28.yml",
    },
  ])(
    "passes every scenario that applies ($requirements, $mode)",
    { timeout: 600_000 },
    async ({ mode, args, requirements, file }, { expect }) => {
      const server = await startHttpServer(["--sandbox", ...args]);
      servers.push(server);
      const results = join(out, `${requirements}-${mode}`);
      const expectedFile = join(SUITE, file);
      const run = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn(
          NODE22,
          [
            CLI,
            "server",
            "--url",
            server.url,
            "--requirements",
            requirements,
            "--expected-failures",
            expectedFile,
            "-o",
            results,
          ],
          { cwd: SUITE, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] },
        );
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString("utf8");
        });
        child.stderr.on("data", (chunk: Buffer) => {
          output += chunk.toString("utf8");
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
      const label = `conformance (${requirements}, ${mode})`;
      expect(run.code, `${label} exited ${run.code}:\n${run.output}`).toBe(0);

      const expectedFailures = await baseline(expectedFile);
      const checks = new Map<string, Check[]>();
      for (const dir of await readdir(results)) {
        checks.set(scenarioOf(dir), JSON.parse(await readFile(join(results, dir, "checks.json"), "utf8")));
      }
      const applicable = [
        ...(APPLICABLE[requirements] ?? []),
        ...(mode === "stateful" ? (STATEFUL_ONLY[requirements] ?? []) : []),
      ];
      const failed = (name: string) =>
        (checks.get(name) ?? []).filter((c) => c.status === "FAILURE" || c.status === "WARNING");
      for (const name of applicable) {
        expect(checks.get(name)?.length, `${name} ran no check`).toBeGreaterThan(0);
        expect(failed(name), `${name} (${label})`).toEqual([]);
      }
      const partial =
        requirements === "2026-07-28" && mode === "stateful" ? { ...PARTIAL, ...PARTIAL_LISTENING } : PARTIAL;
      for (const [name, allowed] of Object.entries(partial)) {
        if (!checks.has(name)) continue;
        expect(
          failed(name).map((c) => c.id),
          `${name} (${label}): fails only what needs a fixture`,
        ).toEqual(allowed);
      }
      const passed = [...checks.keys()].filter((name) => failed(name).length === 0);
      const baselined = expectedFailures.filter((name) => failed(name).length > 0);
      console.info(
        `${label}: ${checks.size} scenarios, ${passed.length} passed, ${baselined.length} expected failures`,
      );
    },
  );
});
