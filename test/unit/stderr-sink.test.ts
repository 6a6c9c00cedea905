/**
 * Log lines to a stderr that is not being read (a pipe whose reader is behind): the server goes on,
 * lines come out whole and in order once it is read again, and what is past the queue's bound is
 * counted and said, not kept. (A write that could not be taken threw, and the process exited.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { StderrSink } from "../../src/stderr-sink.js";

function eagain(): Error {
  return Object.assign(new Error("EAGAIN: resource temporarily unavailable, write"), { code: "EAGAIN" });
}

/** A pipe taking at most `room` bytes a write, and none while `full`. */
function pipe() {
  const state = { full: false, room: Number.POSITIVE_INFINITY, out: "" };
  const write = (bytes: Buffer) => {
    if (state.full) throw eagain();
    const n = Math.min(bytes.length, state.room);
    state.out += bytes.subarray(0, n).toString();
    return n;
  };
  return { state, write };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("StderrSink", () => {
  it("writes lines as they come while the pipe takes them, partial writes finished in order", () => {
    const { state, write } = pipe();
    state.room = 3;
    const sink = new StderrSink(write);
    sink.line("first line\n");
    sink.line("second\n");
    expect(state.out).toBe("first line\nsecond\n");
  });

  it("keeps lines while the pipe is full, and writes them in order once it takes them again", async () => {
    vi.useFakeTimers();
    const { state, write } = pipe();
    const sink = new StderrSink(write);
    state.full = true;
    expect(() => {
      for (let i = 0; i < 100; i++) sink.line(`line ${i}\n`);
    }).not.toThrow();
    expect(state.out).toBe("");
    state.full = false;
    await vi.advanceTimersByTimeAsync(50);
    expect(state.out).toBe(Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(""));
  });

  it("drops what is past its bound, counts it, and says so once the pipe is read again", async () => {
    vi.useFakeTimers();
    const { state, write } = pipe();
    const sink = new StderrSink(write, 100);
    state.full = true;
    for (let i = 0; i < 30; i++) sink.line(`line ${String(i).padStart(2, "0")}\n`);
    // 100 bytes hold twelve lines of eight bytes; the other eighteen are dropped and counted.
    expect(sink.dropped).toBe(18);
    state.full = false;
    await vi.advanceTimersByTimeAsync(50);
    const lines = state.out.trim().split("\n");
    expect(lines.slice(0, 12)).toEqual(
      Array.from({ length: 12 }, (_, i) => `line ${String(i).padStart(2, "0")}`),
    );
    expect(JSON.parse(lines[12] as string)).toMatchObject({
      level: 40,
      msg: "18 log lines were dropped: stderr was not being read",
    });
    expect(sink.dropped).toBe(0);
  });

  it("stops writing once stderr is gone (EPIPE), without throwing", () => {
    let calls = 0;
    const sink = new StderrSink(() => {
      calls += 1;
      throw Object.assign(new Error("EPIPE"), { code: "EPIPE" });
    });
    expect(() => {
      sink.line("a\n");
      sink.line("b\n");
    }).not.toThrow();
    expect(calls).toBe(1);
  });
});
