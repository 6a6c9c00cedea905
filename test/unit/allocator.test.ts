import { describe, expect, it } from "vitest";
import { allocatorAdvice, MALLOC_SETTING } from "../../src/server/allocator.js";

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
