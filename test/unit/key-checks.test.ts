/** Places for new keys being checked (src/server/key-checks.ts), taken and given back by hand. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KeyChecks, MAX_CHECKING, MAX_CHECKING_PER_ADDRESS } from "../../src/server/key-checks.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Takes `n` places for `from`; the promises, and what each came to once settled. */
function takeMany(checks: KeyChecks, from: string, n: number) {
  const results: Array<boolean | undefined> = Array(n).fill(undefined);
  const taken = Array.from({ length: n }, (_, i) =>
    checks.take(from).then((ok) => {
      results[i] = ok;
      return ok;
    }),
  );
  return { taken, results };
}

describe("places for new keys being checked", () => {
  it("serves the addresses waiting in turn as places come back", async () => {
    const checks = new KeyChecks();
    const local = takeMany(checks, "", MAX_CHECKING); // every place taken
    await Promise.all(local.taken);
    const a = takeMany(checks, "203.0.113.5", 3);
    const b = takeMany(checks, "198.51.100.7", 3);
    await vi.advanceTimersByTimeAsync(0);
    expect([...a.results, ...b.results]).toEqual(Array(6).fill(undefined));
    // Each place given back goes to the next address in turn: a, b, a, b…
    for (let i = 0; i < 4; i++) checks.give("");
    await vi.advanceTimersByTimeAsync(0);
    expect(a.results).toEqual([true, true, undefined]);
    expect(b.results).toEqual([true, true, undefined]);
  });

  it("holds one address to its share while places are free for others", async () => {
    const checks = new KeyChecks();
    const a = takeMany(checks, "203.0.113.5", MAX_CHECKING_PER_ADDRESS + 1);
    const b = takeMany(checks, "198.51.100.7", 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(a.results.filter((r) => r === true)).toHaveLength(MAX_CHECKING_PER_ADDRESS);
    expect(a.results.at(-1)).toBeUndefined();
    expect(b.results).toEqual([true]);
    checks.give("203.0.113.5");
    await vi.advanceTimersByTimeAsync(0);
    expect(a.results.at(-1)).toBe(true);
  });

  it("lets a waiting key whose client went leave its turn, and the next one take the place", async () => {
    const checks = new KeyChecks();
    const holding = takeMany(checks, "203.0.113.5", MAX_CHECKING_PER_ADDRESS);
    await Promise.all(holding.taken);
    const gone = new AbortController();
    let left: boolean | undefined;
    void checks.take("203.0.113.5", gone.signal).then((ok) => {
      left = ok;
    });
    const next = takeMany(checks, "203.0.113.5", 1);
    await vi.advanceTimersByTimeAsync(0);
    gone.abort();
    await vi.advanceTimersByTimeAsync(0);
    // Told at once, not after 5 s; and the place given back goes to the one still waiting.
    expect(left).toBe(false);
    checks.give("203.0.113.5");
    await vi.advanceTimersByTimeAsync(0);
    expect(next.results).toEqual([true]);
    // Gone before asking: not queued at all.
    expect(await checks.take("198.51.100.7", AbortSignal.abort())).toBe(false);
  });

  it("tells a key that waited 5 s, or found too many waiting, to come back", async () => {
    const checks = new KeyChecks();
    const a = takeMany(checks, "203.0.113.5", MAX_CHECKING_PER_ADDRESS + 21);
    await vi.advanceTimersByTimeAsync(0);
    // 10 taken, 20 waiting, the last told at once.
    expect(a.results.at(-1)).toBe(false);
    expect(a.results.filter((r) => r === undefined)).toHaveLength(20);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(a.results.filter((r) => r === false)).toHaveLength(21);
    // Those that waited out hold nothing: the address's next key waits only for its own places.
    for (let i = 0; i < MAX_CHECKING_PER_ADDRESS; i++) checks.give("203.0.113.5");
    expect(await checks.take("203.0.113.5")).toBe(true);
  });
});
