import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSandbox } from "../../src/sandbox/index.js";
import { callSandbox as call, sandboxSuite } from "../helpers/sandbox-http.js";

const NB = "/api/projects/1/notebooks/";

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "notebooks-sandbox-"));
  file = join(dir, "state.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
// Registered after the clean-up above: vitest runs afterEach hooks last-registered first, so
// the sandboxes are closed before their folder is removed.
const { start } = sandboxSuite({ defaults: () => ({ stateFile: file }), checkInternalErrors: false });

const leftovers = async () => (await readdir(dir)).filter((f) => f.includes(".tmp-"));

describe("persistence", () => {
  it("survives a restart: notebooks, versions, deletions and activity", async () => {
    const first = await start();
    const created = (await call(first, "POST", NB, { body: { title: "Persistent" } })).json;
    await call(first, "PATCH", `${NB}${created.short_id}/`, {
      body: {
        content: { type: "doc", content: [] },
        version: 0,
      },
    });
    const gone = (await call(first, "POST", NB, { body: { title: "Deleted" } })).json;
    await call(first, "PATCH", `${NB}${gone.short_id}/`, { body: { deleted: true } });
    await first.close();
    expect(existsSync(file)).toBe(true);
    expect(await leftovers()).toEqual([]);

    const second = await start();
    const again = await call(second, "GET", `${NB}${created.short_id}/`);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({
      id: created.id,
      title: "Persistent",
      version: 1,
      created_at: created.created_at,
    });
    expect((await call(second, "GET", NB)).json.count).toBe(1);
    expect((await call(second, "PATCH", `${NB}${gone.short_id}/`, { body: { deleted: false } })).status).toBe(
      200,
    );
    const activity = await call(second, "GET", `${NB}${created.short_id}/activity/`);
    expect(activity.json.results.map((e: { activity: string }) => e.activity)).toEqual([
      "updated",
      "created",
    ]);
    // Timestamps keep moving forward after a restart.
    const later = (await call(second, "POST", NB, { body: {} })).json;
    expect(Date.parse(later.created_at)).toBeGreaterThanOrEqual(Date.parse(again.json.last_modified_at));
    expect(later.created_at).not.toBe(again.json.last_modified_at);
  });

  it("writes after every mutation, atomically, without leaving temp files", async () => {
    const sb = await start();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(sb, "POST", NB, { body: { title: `n${i}` } })),
    );
    await sb.flush();
    const state = JSON.parse(await readFile(file, "utf8"));
    expect(state.notebooks).toHaveLength(40);
    expect(state.activity).toHaveLength(40);
    expect(await leftovers()).toEqual([]);
    await call(sb, "PATCH", `${NB}${state.notebooks[0].short_id}/`, { body: { title: "renamed" } });
    await sb.flush();
    const after = JSON.parse(await readFile(file, "utf8"));
    expect(after.notebooks[0].title).toBe("renamed");
  });

  it("persists bulk seeds and direct inserts", async () => {
    const sb = await start();
    await sb.seedNotebooks(120);
    sb.insertNotebook({ short_id: "inserted", title: "direct" });
    await sb.close();
    const again = await start();
    expect((await call(again, "GET", `${NB}?limit=1`)).json.count).toBe(121);
  });

  it("seeds only a fresh state", async () => {
    const first = await start({ seed: true });
    expect((await call(first, "GET", NB)).json.count).toBe(4);
    await first.close();
    const second = await start({ seed: true });
    expect((await call(second, "GET", NB)).json.count).toBe(4);
  });

  it("refuses to start on a file that is not a sandbox state", async () => {
    await writeFile(file, "{ not json");
    await expect(startSandbox({ stateFile: file })).rejects.toThrow();
    await writeFile(file, JSON.stringify({ hello: "world" }));
    await expect(startSandbox({ stateFile: file })).rejects.toThrow(/not a notebooks sandbox state file/);
  });

  it("keeps nothing on disk without a state file", async () => {
    const sb = await start({ stateFile: undefined });
    await call(sb, "POST", NB, { body: {} });
    await sb.flush();
    expect(await readdir(dir)).toEqual([]);
  });
});

// The CLI runs from the build output, which `npm test` builds before running vitest.
const cliPath = join(process.cwd(), "dist/sandbox/cli.js");

describe("CLI", () => {
  beforeAll(() => {
    if (!existsSync(cliPath))
      throw new Error("dist/sandbox/cli.js is missing: run `npm run build` (npm test does)");
  });

  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
  });

  function run(args: string[]): {
    proc: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    exited: Promise<number | null>;
  } {
    const proc = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let out = "";
    let err = "";
    proc.stdout?.on("data", (c) => {
      out += c;
    });
    proc.stderr?.on("data", (c) => {
      err += c;
    });
    const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
    return { proc, stdout: () => out, stderr: () => err, exited };
  }

  async function waitFor(check: () => boolean, ms = 5000) {
    const until = Date.now() + ms;
    while (!check()) {
      if (Date.now() > until) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("prints the URL, key and a curl line, logs requests to stderr, and exits on SIGTERM", async () => {
    const state = join(dir, "cli.json");
    const cli = run(["--state", state]);
    await waitFor(() => cli.stdout().includes("curl"));
    const url = /base URL: (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.stdout())?.[1];
    const key = /key: +(phx_\w+)/.exec(cli.stdout())?.[1];
    expect(url).toBeDefined();
    expect(key).toMatch(/^phx_[A-Za-z0-9]{43}$/);
    expect(cli.stdout()).toContain(
      `curl -H "Authorization: Bearer ${key}" ${url}/api/projects/@current/notebooks/`,
    );
    const res = await fetch(`${url}/api/projects/@current/notebooks/`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    expect(((await res.json()) as { count: number }).count).toBe(4);
    await waitFor(() => cli.stderr().includes("GET /api/projects/@current/notebooks/ 200"));
    cli.proc.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(existsSync(state)).toBe(true);
  });

  it("refuses a non-loopback host without --allow-remote", async () => {
    const cli = run(["--host", "0.0.0.0", "--no-seed"]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain("--allow-remote");
  });
});
