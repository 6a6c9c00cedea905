import { describe, expect, it } from "vitest";
import { allocatorAdvice, MALLOC_SETTING, restartWithThreshold } from "../../src/server/allocator.js";

describe("advice on glibc's allocator, said at an HTTP server's start", () => {
  it("names the setting when glibc runs without it", () => {
    const advice = allocatorAdvice({}, "2.36");
    expect(advice).toContain(MALLOC_SETTING);
    expect(advice).toMatch(/to hand it back \(glibc's own starting threshold/);
  });

  it("says nothing once the threshold is set, by variable or tunable", () => {
    expect(allocatorAdvice({ MALLOC_MMAP_THRESHOLD_: "131072" }, "2.36")).toBeUndefined();
    expect(allocatorAdvice({ GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=131072" }, "2.36")).toBeUndefined();
  });

  it("says nothing on another C library or system", () => {
    expect(allocatorAdvice({}, null)).toBeUndefined();
  });

  it("finds glibc on this machine as the process reports it", () => {
    const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      ?.glibcVersionRuntime;
    expect(allocatorAdvice({}) === undefined).toBe(glibc === undefined);
  });
});

describe("starting again in place with the threshold set (Node 22.15 and later)", () => {
  /** What restartWithThreshold asked `execve` to run, if anything. */
  function restarted(env: NodeJS.ProcessEnv, glibc: string | null, fails = false) {
    const calls: Array<{ file: string; args: string[]; env: NodeJS.ProcessEnv }> = [];
    restartWithThreshold(env, glibc, ((file: string, args: string[], next: NodeJS.ProcessEnv) => {
      calls.push({ file, args, env: next });
      if (fails) throw Object.assign(new Error("refused"), { code: "EACCES" });
    }) as never);
    return calls;
  }

  it("runs this Node again with the same arguments and environment, the threshold added", () => {
    const calls = restarted({ PATH: "/usr/bin", POSTHOG_MCP_PORT: "8787" }, "2.36");
    expect(calls).toEqual([
      {
        file: process.execPath,
        args: [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
        env: { PATH: "/usr/bin", POSTHOG_MCP_PORT: "8787", MALLOC_MMAP_THRESHOLD_: "131072" },
      },
    ]);
  });

  it("does not where the threshold is set already, or glibc is not there", () => {
    expect(restarted({ MALLOC_MMAP_THRESHOLD_: "65536" }, "2.36")).toEqual([]);
    expect(restarted({ GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=131072" }, "2.36")).toEqual([]);
    expect(restarted({}, null)).toEqual([]);
  });

  it("goes on as it was when the system refuses, or Node has no process.execve", () => {
    expect(restarted({}, "2.36", true)).toHaveLength(1);
    expect(() => restartWithThreshold({}, "2.36", null)).not.toThrow();
  });
});
