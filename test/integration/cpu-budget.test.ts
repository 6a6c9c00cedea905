/**
 * Each key's budgets, consulted before a call does any work: its PostHog request budget and its
 * share of this server's processing time (conversions on the server's thread and in workers,
 * searches, redaction of what it is sent). No clock decides anything here: time is injected (a
 * fake clock for the limiter, a charge of processing time for the server).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { accountedTo, metered } from "../../src/cpu-account.js";
import * as converter from "../../src/notebooks/worker-pool.js";
import { CpuBudgetSpent, CpuShares, RateLimitExceeded, RateLimiter } from "../../src/posthog/rate-limit.js";
import { type Harness, startHarness, textOf } from "../helpers/harness.js";

/** A share of processing time of its own, whatever the machine and the other keys (none here). */
const unshared = () => new CpuShares(Number.POSITIVE_INFINITY);

// Every conversion goes through `convert`: spied on, to see that a call held back converts nothing.
vi.mock("../../src/notebooks/worker-pool.js", async (original) => {
  const actual = await original<typeof import("../../src/notebooks/worker-pool.js")>();
  return { ...actual, convert: vi.fn(actual.convert) };
});

const converted = () => vi.mocked(converter.convert).mock.calls.length;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("processing time, per key (fake clock)", () => {
  it("a key over its share of a minute is refused until what it spent leaves the window", async () => {
    let now = 0;
    const limiter = new RateLimiter(
      { perMinute: 100, perHour: 1_000, cpuMsPerMinute: 30_000, shares: unshared() },
      30_000,
      () => now,
    );
    await limiter.admit();
    limiter.chargeCpu(45_000);
    expect(limiter.cpuSpentMs()).toBe(45_000);
    const refused = await limiter.admit().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CpuBudgetSpent);
    expect((refused as CpuBudgetSpent).waitMs).toBe(60_000);
    expect((refused as CpuBudgetSpent).message).toMatch(/used 45 s .* share is 30 s a minute.*60 seconds/);
    now = 60_000;
    expect(limiter.cpuSpentMs()).toBe(0);
    await limiter.admit();
  });

  it("a short wait is waited out; admitting takes no request place", async () => {
    let now = 0;
    const limiter = new RateLimiter(
      { perMinute: 1, perHour: 1_000, cpuMsPerMinute: 30_000, shares: unshared() },
      30_000,
      () => now,
    );
    limiter.chargeCpu(20_000);
    now = 40_000;
    limiter.chargeCpu(15_000);
    // 35 s spent: under the share again when the first charge leaves, 20 s from now.
    vi.useFakeTimers();
    try {
      let admitted = false;
      const waiting = limiter.admit().then(() => {
        admitted = true;
      });
      await vi.advanceTimersByTimeAsync(10_000);
      expect(admitted).toBe(false);
      now = 60_000;
      await vi.advanceTimersByTimeAsync(10_000);
      await waiting;
      expect(admitted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    // Admitted twice, and the one request the minute allows is still there.
    await limiter.admit();
    expect(limiter.tryTake()).toBe(true);
    await expect(limiter.admit()).rejects.toBeInstanceOf(RateLimitExceeded);
  });

  it("keys busy at once share the process's time: each key's share shrinks as more spend, and comes back as they stop", async () => {
    let now = 0;
    const clock = () => now;
    // A process of 60 s a minute to share, each key at most 30 s, at least 5 s.
    const shares = new CpuShares(60_000, 5_000, clock);
    const limits = { perMinute: 1_000, perHour: 10_000, cpuMsPerMinute: 30_000, shares };
    const keys = Array.from({ length: 16 }, () => new RateLimiter(limits, 1_000, clock));
    const [first, second, third] = keys as [RateLimiter, RateLimiter, RateLimiter];
    first.chargeCpu(20_000);
    // Alone, or with one other key busy: its 30 s a minute.
    await first.admit();
    second.chargeCpu(1);
    expect(shares.busy(first)).toBe(2);
    await first.admit();
    // A third key busy: 20 s each, and the first key has spent its part.
    third.chargeCpu(1);
    const refused = await first.admit().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CpuBudgetSpent);
    expect((refused as CpuBudgetSpent).budgetMs).toBe(20_000);
    expect((refused as CpuBudgetSpent).message).toMatch(
      /share is 20 s a minute, with 3 keys busy on this server/,
    );
    // However many keys are busy, a share is never under the floor.
    for (const key of keys) key.chargeCpu(1);
    expect(shares.shareMs(third, 30_000)).toBe(5_000);
    await third.admit();
    // A minute later the others have stopped; the first key's charge has left its window too.
    now = 61_000;
    first.chargeCpu(25_000);
    expect(shares.busy(first)).toBe(1);
    await first.admit();
  });

  it("a key that has the process to itself (stdio) is not counted among the busy ones", () => {
    const shares = new CpuShares(60_000, 5_000, () => 0);
    const own = new RateLimiter({
      perMinute: 1,
      perHour: 1,
      cpuMsPerMinute: Number.POSITIVE_INFINITY,
      shares,
    });
    own.chargeCpu(100_000);
    expect(own.cpuWaitMs()).toBe(0);
    expect(shares.busy({})).toBe(1);
  });

  it("work metered inside a call is charged to the call's account, and to no other", () => {
    const mine: number[] = [];
    const theirs: number[] = [];
    const busy = () => {
      let x = 0;
      for (let i = 0; i < 100_000; i++) x += i % 7;
      return x;
    };
    accountedTo({ chargeCpu: (ms) => mine.push(ms) }, () => metered(busy));
    accountedTo({ chargeCpu: (ms) => theirs.push(ms) }, () => undefined);
    metered(busy);
    expect(mine).toHaveLength(1);
    expect(theirs).toHaveLength(0);
  });
});

describe("through the server", () => {
  it("a key over its share of processing time is told so and when to retry; nothing is converted or sent", async () => {
    // A shared server's share (a process serving one key over stdio rations nothing by default).
    h = await startHarness({
      app: { rateLimits: { perMinute: 480, perHour: 4_800, cpuMsPerMinute: 30_000, shares: unshared() } },
    });
    await h.toolNames();
    h.app.session.client.cpuAccount?.chargeCpu(200_000);
    h.mark();
    const before = converted();
    const result = await h.call("notebooks-create", { markdown: "# Held back\n\nNot converted." });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /^This key has used 20\d s of this server's processing time in the last minute, over its share of 30 s a minute, so notebooks-create was not run and nothing was sent to PostHog\. Try again in (59|60) seconds/,
    );
    expect(converted()).toBe(before);
    expect(h.upstream()).toEqual([]);
    // Resource reads are held back the same way.
    await expect(h.client.readResource({ uri: "posthog://notebooks/abc/markdown" })).rejects.toThrow(
      /processing time/,
    );
    expect(h.upstream()).toEqual([]);
  });

  it("a key over its share is told so for calls refused before their budget too (arguments, project), and nothing is sent", async () => {
    h = await startHarness({
      app: { rateLimits: { perMinute: 480, perHour: 4_800, cpuMsPerMinute: 30_000, shares: unshared() } },
    });
    await h.toolNames();
    // Under its share: the arguments' own refusal.
    const wrong = await h.call("notebooks-list", { limit: "x" });
    expect(textOf(wrong)).not.toMatch(/processing time/);
    expect(textOf(wrong)).toMatch(/limit/);
    h.app.session.client.cpuAccount?.chargeCpu(200_000);
    h.mark();
    for (const args of [{ limit: "x" }, { project_id: 999_999 }, JSON.parse('{"__proto__": 1}')]) {
      const result = await h.call("notebooks-list", args);
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(
        /^This key has used 20\d s of this server's processing time in the last minute, over its share of 30 s a minute, so notebooks-list was not run and nothing was sent to PostHog\. Try again in (59|60) seconds/,
      );
    }
    await expect(h.client.readResource({ uri: "posthog://nothing/here" })).rejects.toThrow(/processing time/);
    expect(h.upstream()).toEqual([]);
  });

  it("a process serving one key (stdio) rations none of its processing time", async () => {
    h = await startHarness();
    await h.toolNames();
    h.app.session.client.cpuAccount?.chargeCpu(200_000);
    const result = await h.call("notebooks-create", { markdown: "# Not held back\n\nConverted." });
    expect(result.isError, textOf(result)).toBeFalsy();
  });

  it("conversions run after the request budget is consulted: a limited key converts nothing", async () => {
    // Two requests a minute: the key's grants read, then one list.
    h = await startHarness({ app: { rateLimits: { perMinute: 2, perHour: 100 } } });
    await h.toolNames();
    expect((await h.call("notebooks-list", {})).isError).toBeFalsy();
    h.mark();
    const before = converted();
    const result = await h.call("notebooks-create", { markdown: "# Limited\n\nNot converted." });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Too many PostHog requests in a short time .*nothing was sent/);
    expect(converted()).toBe(before);
    expect(h.upstream()).toEqual([]);
  });

  it("a call's conversions, searches and the redaction of what it is sent are charged to its key", async () => {
    h = await startHarness();
    await h.toolNames();
    const account = h.app.session.client.cpuAccount;
    expect(account).toBeDefined();
    const markdown = `# Charged\n\n${"Some text to convert and search. ".repeat(2_000)}`;
    const before = converted();
    const created = await h.call("notebooks-create", { markdown });
    expect(created.isError, textOf(created)).toBeFalsy();
    expect(converted()).toBeGreaterThan(before);
    const spent = account?.cpuSpentMs() ?? 0;
    expect(spent).toBeGreaterThan(0);
    // Redacting a big answer is charged too.
    h.app.session.client.secrets.redact("x".repeat(100_000));
    expect(account?.cpuSpentMs() ?? 0).toBeGreaterThan(spent);
  });
});
