import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertBuilt, childEnv, run, runSandboxCli } from "../helpers/binary.js";

const runCli = runSandboxCli;

let dir: string;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "notebooks-state-e2e-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SECRET = "state-content-not-to-echo";

describe.each([
  [
    "posthog-notebooks-mcp --sandbox --sandbox-state",
    (path: string) => run(["--sandbox", "--sandbox-state", path], childEnv()),
  ],
  ["the sandbox CLI --state", (path: string) => runCli(["--state", path])],
] as const)("%s", (_name, start) => {
  it("exits 2 with one line when the directory does not exist", async () => {
    const result = await start("/nonexistent/dir/state.json");
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("/nonexistent/dir");
    expect(lines[0]).toMatch(/does not exist/);
    expect(result.stdout).toBe("");
  });

  it("exits 2 with one line on a file that is not a state file, without echoing it", async () => {
    const file = join(dir, "state.json");
    await writeFile(file, `${SECRET}\n{"format": 1}`);
    const result = await start(file);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(/not a notebooks sandbox state file/);
    expect(result.stderr).not.toContain(SECRET);
    expect(result.stdout).not.toContain(SECRET);
  });
});
