/**
 * glibc's threshold, as a shared server sets it (src/server/allocator.ts): on Node 22.15 and later
 * the built server, started with `--http` and no setting of its own, starts again in place with
 * MALLOC_MMAP_THRESHOLD_=131072 (the same process, as /proc shows it) and has nothing to advise; a
 * setting of the operator's stays as it is; on Node without `process.execve` (this machine's 20) it
 * runs as started and says what to set. Node 22 comes from test/conformance (the `node` package).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MALLOC_SETTING } from "../../src/server/allocator.js";
import { childEnv } from "../helpers/binary.js";
import { ensureSuite, NODE22 } from "../helpers/conformance-package.js";
import { type HttpServer, startHttpServer } from "../helpers/http-server.js";

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
  ?.glibcVersionRuntime;
const servers: HttpServer[] = [];

/** The environment of process `pid` as the system holds it now. */
function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

/** The built server over HTTP with its sandbox, run by `node`, `extra` in its environment. */
async function serve(node: string, extra: Record<string, string> = {}): Promise<HttpServer> {
  const env = childEnv(extra);
  if (!("MALLOC_MMAP_THRESHOLD_" in extra)) delete env.MALLOC_MMAP_THRESHOLD_;
  delete env.GLIBC_TUNABLES;
  const server = await startHttpServer(["--sandbox"], env, 30_000, node);
  servers.push(server);
  const health = await fetch(`${server.origin}/healthz`);
  expect(health.status).toBe(200);
  return server;
}

beforeAll(async () => {
  await ensureSuite();
}, 600_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
});

describe.runIf(process.platform === "linux" && glibc !== undefined)("on Linux with glibc", () => {
  it("on Node 22, starts again in place with the threshold set, and advises nothing", async () => {
    const server = await serve(NODE22);
    expect(environOf(server.pid)).toContain(MALLOC_SETTING);
    expect(server.stderr()).not.toContain(MALLOC_SETTING);
  }, 60_000);

  it("on Node 22, keeps a threshold the operator set", async () => {
    const server = await serve(NODE22, { MALLOC_MMAP_THRESHOLD_: "65536" });
    expect(environOf(server.pid)).toContain("MALLOC_MMAP_THRESHOLD_=65536");
    expect(environOf(server.pid)).not.toContain(MALLOC_SETTING);
  }, 60_000);

  it("on this run's Node: starts again where it can (22.15+), else runs as started and says what to set", async () => {
    const server = await serve(process.execPath);
    const restarts = typeof (process as { execve?: unknown }).execve === "function";
    expect(environOf(server.pid).includes(MALLOC_SETTING)).toBe(restarts);
    expect(server.stderr().includes(`start this server with ${MALLOC_SETTING}`)).toBe(!restarts);
  }, 60_000);
});
