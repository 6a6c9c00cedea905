/**
 * The sandbox's state file, as an attacker or a mistake would meet it: planted symlinks, loose
 * permissions, a file that is not a state file, a path that cannot be written, a save that fails.
 */

import { watch } from "node:fs";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Config } from "../../src/config.js";
import { SandboxStateError, startSandbox } from "../../src/sandbox/index.js";
import { openUpstream } from "../../src/upstream.js";

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "notebooks-state-"));
  file = join(dir, "state.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writing the state file", () => {
  it("does not follow a symlink planted at a temporary file name", async () => {
    const victim = join(dir, "victim.txt");
    await writeFile(victim, "precious\n");
    // The names the writes used to go through: predictable from the pid and a counter.
    for (let n = 1; n <= 5; n++) await symlink(victim, `${file}.tmp-${process.pid}-${n}`);
    const sb = await startSandbox({ stateFile: file, seed: true });
    try {
      for (let i = 0; i < 4; i++) sb.insertNotebook({ title: `n${i}` });
      await sb.seedNotebooks(3);
      await sb.flush();
    } finally {
      await sb.close();
    }
    expect(await readFile(victim, "utf8")).toBe("precious\n");
    expect((await lstat(file)).isFile()).toBe(true);
    expect(JSON.parse(await readFile(file, "utf8")).notebooks.length).toBeGreaterThan(4);
    // No temporary file is left behind besides the planted links, which stay links to the victim.
    const names = (await readdir(dir)).filter((name) => name.includes(".tmp"));
    expect(names.sort()).toEqual([1, 2, 3, 4, 5].map((n) => `state.json.tmp-${process.pid}-${n}`).sort());
    for (const name of names) expect((await lstat(join(dir, name))).isSymbolicLink()).toBe(true);
  });

  it("uses a fresh, unpredictable temporary name for every write", async () => {
    const sb = await startSandbox({ stateFile: file });
    const seen = new Set<string>();
    // inotify (or its equivalent) reports every file created in the directory.
    const watcher = watch(dir, (_event, name) => {
      if (name && name !== "state.json") seen.add(String(name));
    });
    try {
      for (let i = 0; i < 30; i++) {
        sb.insertNotebook({ title: `n${i}` });
        await sb.flush();
      }
      await vi.waitFor(() => expect(seen.size).toBeGreaterThanOrEqual(30), { timeout: 10_000 });
    } finally {
      watcher.close();
      await sb.close();
    }
    expect(seen.size).toBeGreaterThanOrEqual(30);
    for (const name of seen) expect(name).toMatch(/^state\.json\.tmp-[0-9a-f]{32}$/);
  });

  it("writes the file readable by its owner only (0600)", async () => {
    const sb = await startSandbox({ stateFile: file, seed: true });
    await sb.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("narrows an existing world-readable state file to 0600 on the next save", async () => {
    const first = await startSandbox({ stateFile: file, seed: true });
    await first.close();
    await chmod(file, 0o644);
    const second = await startSandbox({ stateFile: file });
    second.insertNotebook({ title: "after" });
    await second.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});

describe("loading the state file", () => {
  const SECRET = "do-not-echo-me";

  it.for([
    ["text", `${SECRET} and more text`],
    ["truncated JSON", `{"format":"posthog-notebooks-sandbox","${SECRET}`],
    ["JSON of another shape", JSON.stringify({ [SECRET]: SECRET })],
    ["JSON null", "null"],
    [
      "a state file with broken lists",
      JSON.stringify({ format: "posthog-notebooks-sandbox", version: 1, seq: 1, notebooks: SECRET }),
    ],
  ] as const)("refuses %s, naming the path and the remedy, without echoing it", async ([, content]) => {
    await writeFile(file, content);
    const error = await startSandbox({ stateFile: file }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(SandboxStateError);
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toMatch(/is not a notebooks sandbox state file/);
    expect(message).toMatch(/delete it|another/);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain("null");
    expect(message).not.toContain("\n");
  });

  it("refuses a directory as the state file", async () => {
    await mkdir(file);
    await expect(startSandbox({ stateFile: file })).rejects.toThrow(SandboxStateError);
    await expect(startSandbox({ stateFile: file })).rejects.toThrow(/is a directory/);
  });

  it("refuses a path whose directory does not exist, before serving anything", async () => {
    const missing = join(dir, "no", "such", "state.json");
    const error = await startSandbox({ stateFile: missing }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(SandboxStateError);
    expect((error as Error).message).toContain(join(dir, "no", "such"));
    expect((error as Error).message).toMatch(/does not exist/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves no probe file behind after checking the directory", async () => {
    const sb = await startSandbox({ stateFile: file });
    expect(await readdir(dir)).toEqual([]);
    await sb.close();
  });
});

describe("a save that fails later", () => {
  it("is reported to onSaveError", async () => {
    const errors: unknown[] = [];
    const sb = await startSandbox({ stateFile: file, onSaveError: (e) => errors.push(e) });
    await rm(dir, { recursive: true, force: true });
    sb.insertNotebook({ title: "lost" });
    await expect(sb.flush()).rejects.toThrow();
    expect(errors).toHaveLength(1);
    await mkdir(dir);
    await sb.close();
  });

  it("is logged by the server, with the path and what to do", async () => {
    let logged = "";
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const config: Config = {
      command: "serve",
      mode: "sandbox",
      apiKey: undefined,
      host: "http://127.0.0.1",
      sandboxStateFile: file,
      projectId: "@current",
      readOnly: false,
      logLevel: "info",
      allowInsecureHttp: false,
      timeouts: { connect: 2_000, headers: 5_000, body: 5_000 },
      maxResultChars: 80_000,
    };
    const upstream = await openUpstream(config, { logger: pino({ level: "info" }, sink) });
    try {
      // Whatever the start wrote is on disk before the directory goes (no save racing the removal).
      await upstream.sandbox?.flush().catch(() => undefined);
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
      upstream.sandbox?.insertNotebook({ title: "lost" });
      await upstream.sandbox?.flush().catch(() => undefined);
      const lines = logged
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const failure = lines.find((line) => line.level === 50);
      expect(failure).toBeDefined();
      expect(String(failure?.msg)).toContain(file);
      expect(String(failure?.msg)).toMatch(/could not save/i);
    } finally {
      await mkdir(dir, { recursive: true });
      await upstream.close();
    }
  });
});
