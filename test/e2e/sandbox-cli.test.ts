import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, childEnv, ROOT, runSandboxCli } from "../helpers/binary.js";

const runCli = runSandboxCli;

beforeAll(() => assertBuilt());

describe("the sandbox CLI", () => {
  it.for([["--help"], ["-h"]])("%s prints the usage on stdout and exits 0", async (args) => {
    const result = await runCli(args);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const usage = result.stdout;
    for (const flag of ["--port", "--host", "--state", "--no-seed", "--allow-remote", "--keys", "--help"]) {
      expect(usage).toContain(flag);
    }
    // Every command it names can be run: the file itself, or the npm script.
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.sandbox).toBe("node dist/sandbox/cli.js");
    expect(usage).toContain("node dist/sandbox/cli.js");
    expect(usage).toContain("npm run sandbox --");
    for (const name of usage.matchAll(/posthog-notebooks-[a-z-]+/g)) {
      expect(Object.keys(pkg.bin)).toContain(name[0]);
    }
  });

  it("--help wins over the other flags and starts nothing", async () => {
    const [result, help] = await Promise.all([runCli(["--port", "0", "--help"]), runCli(["--help"])]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(help.stdout);
    expect(result.stdout).not.toMatch(/http:\/\/127\.0\.0\.1:\d+/);
  });

  it.for([["--bogus"], ["--port=1", "--verbose"], ["extra"]])(
    "%s: exits 2 with one line naming the argument and pointing at --help",
    async (args) => {
      const result = await runCli(args);
      const bad = args.at(-1) as string;
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      const lines = result.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(bad);
      expect(lines[0]).toContain("--help");
    },
  );

  it("a flag without its value: one line naming it, pointing at --help", async () => {
    const result = await runCli(["--port"]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("--port");
    expect(lines[0]).toContain("--help");
  });

  it("--keys 3: three keys printed and each accepted; a made-up one refused", async () => {
    const child = spawn(
      process.execPath,
      ["dist/sandbox/cli.js", "--port", "0", "--no-seed", "--keys", "3"],
      {
        cwd: ROOT,
        env: childEnv(),
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    try {
      let out = "";
      child.stdout.setEncoding("utf8");
      while (!/curl/.test(out)) {
        const [chunk] = (await once(child.stdout, "data")) as [string];
        out += chunk;
      }
      const url = /base URL: (\S+)/.exec(out)?.[1] as string;
      const keys = [...out.matchAll(/^ {2}key(?: \d+)?: +(phx_\S+)$/gm)].map((m) => m[1] as string);
      expect(keys).toHaveLength(3);
      expect(new Set(keys).size).toBe(3);
      expect(out).toContain("the keys below are not");
      const status = async (key: string) =>
        (
          await fetch(`${url}/api/projects/@current/notebooks/`, {
            headers: { authorization: `Bearer ${key}` },
          })
        ).status;
      for (const key of keys) expect(await status(key)).toBe(200);
      expect(await status(`${(keys[2] as string).slice(0, -1)}9`)).toBe(401);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
