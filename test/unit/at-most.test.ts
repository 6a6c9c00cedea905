/** AtMost: at most `most` tasks at once, the others started in the order they came. */
import { describe, expect, it } from "vitest";
import { AtMost } from "../../src/at-most.js";

describe("AtMost", () => {
  it("runs at most `most` tasks at once, the next in the order they came, and counts its peak", async () => {
    const limit = new AtMost(2);
    const started: number[] = [];
    const finish: Array<() => void> = [];
    const tasks = [0, 1, 2, 3].map((i) =>
      limit.run(
        () =>
          new Promise<number>((resolve) => {
            started.push(i);
            finish[i] = () => resolve(i);
          }),
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    finish[1]?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    finish[0]?.();
    finish[2]?.();
    await new Promise((resolve) => setImmediate(resolve));
    finish[3]?.();
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3]);
    expect(limit.peak).toBe(2);
  });

  it("gives a place back once, whatever its holder does, and after a task that throws", async () => {
    const limit = new AtMost(1);
    const giveBack = await limit.take();
    giveBack();
    giveBack();
    await expect(limit.run(async () => Promise.reject(new Error("no")))).rejects.toThrow("no");
    // Both places taken and given back: one is free, not two.
    const first = await limit.take();
    let second = false;
    void limit.take().then(() => {
      second = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBe(false);
    first();
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBe(true);
  });
});
