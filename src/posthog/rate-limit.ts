/**
 * Client-side limits that keep this server under PostHog's per-key rate limits (480 requests a
 * minute, 4800 an hour), so an agent firing many calls at once gets answers rather than 429s; and
 * each key's share of this server's own processing time (conversions, searches, redaction), so
 * that one key's heavy calls cannot starve the others' on a shared server.
 *
 * PostHog counts with DRF's SimpleRateThrottle: a sliding window, at most N requests in any
 * minute (and any hour). A token bucket of N tokens refilling N a minute lets nearly 2N through
 * in a minute's window (the full bucket, then the refill), so this keeps the same sliding windows
 * PostHog does, with a margin for the time requests take to arrive. A caller waits for room, up
 * to a bound; past it the request is refused here, before PostHog would refuse it.
 */

import { availableParallelism } from "node:os";

export interface RateLimits {
  perMinute: number;
  perHour: number;
  /**
   * Milliseconds of this server's processing time (its own thread and its conversion workers) one
   * key may use in any minute (default CPU_MS_PER_MINUTE).
   */
  cpuMsPerMinute?: number;
  /** The keys this key shares the process's processing time with (default: the process's). */
  shares?: CpuShares;
}

/** A key's share of processing time, at most: half of one core's minute. */
export const CPU_MS_PER_MINUTE = 30_000;

/** The least a busy key's share of processing time becomes: a few big writes a minute. */
export const CPU_FLOOR_MS = 5_000;

/**
 * The keys busy at once share the process's processing time: three quarters of its cores' minute,
 * in equal parts (each at most CPU_MS_PER_MINUTE, at least CPU_FLOOR_MS), so that however many keys
 * spend their share at once, a quarter of the machine is left for the others' short calls. A key
 * is busy for a minute after it last spent processing time.
 */
export class CpuShares {
  /** When each busy key last spent, least recent first. */
  readonly #spent = new Map<object, number>();

  constructor(
    readonly capacityMsPerMinute = 0.75 * availableParallelism() * 60_000,
    readonly floorMs = CPU_FLOOR_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `who` spent processing time now. */
  spent(who: object): void {
    this.#spent.delete(who);
    this.#spent.set(who, this.now());
  }

  /** Keys busy now (`who` counted among them). */
  busy(who: object): number {
    const at = this.now();
    for (const [key, when] of this.#spent) {
      if (when > at - 60_000) break;
      this.#spent.delete(key);
    }
    return this.#spent.size + (this.#spent.has(who) ? 0 : 1);
  }

  /** `who`'s share of a minute now, at most `maxMs`. */
  shareMs(who: object, maxMs: number): number {
    if (maxMs === Number.POSITIVE_INFINITY) return maxMs;
    return Math.min(maxMs, Math.max(this.floorMs, this.capacityMsPerMinute / this.busy(who)));
  }
}

/** The keys of this process. */
export const PROCESS_CPU_SHARES = new CpuShares();

export const POSTHOG_PERSONAL_KEY_LIMITS: RateLimits = { perMinute: 480, perHour: 4800 };

/** Added to each window: PostHog counts arrivals, which come a little after the sends. */
const MARGIN_MS = 1_000;

/** At most `limit` requests in any `windowMs`, counted from when they were let through. */
class SlidingWindow {
  /** When the requests still in the window were let through, oldest first. */
  readonly #sent: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Milliseconds until one more request fits (0: now). */
  waitMs(): number {
    const at = this.now();
    while (this.#sent.length > 0 && (this.#sent[0] as number) <= at - this.windowMs) this.#sent.shift();
    if (this.#sent.length < this.limit) return 0;
    const oldestToLeave = this.#sent[this.#sent.length - this.limit] as number;
    return Math.max(1, Math.ceil(oldestToLeave + this.windowMs - at));
  }

  take(): void {
    this.#sent.push(this.now());
  }
}

/**
 * Processing time spent in any `windowMs`, as charged. Charges less than a second apart are kept
 * as one, so that what it holds is bounded however many small charges come.
 */
class CpuWindow {
  /** [when charged, milliseconds], oldest first. */
  readonly #charges: Array<[number, number]> = [];
  #spent = 0;

  constructor(
    /** The budget now (it changes with the keys sharing the process). */
    readonly budgetMs: () => number,
    readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  charge(ms: number): void {
    if (!(ms > 0)) return;
    const at = this.now();
    const last = this.#charges.at(-1);
    if (last && at - last[0] < 1_000) last[1] += ms;
    else this.#charges.push([at, ms]);
    this.#spent += ms;
    this.#expire(at);
  }

  /** Milliseconds spent in the window now. */
  spentMs(): number {
    this.#expire(this.now());
    return this.#spent;
  }

  /** Milliseconds until what was spent in the window is back under the budget (0: it is). */
  waitMs(): number {
    const at = this.now();
    this.#expire(at);
    const budget = this.budgetMs();
    let spent = this.#spent;
    for (const [when, ms] of this.#charges) {
      if (spent < budget) break;
      spent -= ms;
      if (spent < budget) return Math.max(1, Math.ceil(when + this.windowMs - at));
    }
    return 0;
  }

  #expire(at: number): void {
    while (this.#charges.length > 0 && (this.#charges[0] as [number, number])[0] <= at - this.windowMs) {
      this.#spent -= (this.#charges.shift() as [number, number])[1];
    }
    if (this.#charges.length === 0) this.#spent = 0;
  }
}

export class RateLimitExceeded extends Error {
  override name = "RateLimitExceeded";
  constructor(readonly waitMs: number) {
    super(`the key's request budget is spent for the next ${Math.ceil(waitMs / 1000)} seconds`);
  }
}

/** A key that has used more than its share of processing time in the last minute. */
export class CpuBudgetSpent extends Error {
  override name = "CpuBudgetSpent";
  constructor(
    readonly waitMs: number,
    readonly spentMs: number,
    readonly budgetMs: number,
    /** Keys busy on the server, sharing its processing time. */
    readonly busy = 1,
  ) {
    super(
      `the key used ${Math.round(spentMs / 1000)} s of this server's processing time in the last minute (its share is ${seconds(budgetMs)} s a minute${busy > 1 ? `, with ${busy} keys busy on this server` : ""}); room again in ${seconds(waitMs)} seconds`,
    );
  }
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

export class RateLimiter {
  readonly #windows: SlidingWindow[];
  readonly #cpu: CpuWindow;
  readonly #shares: CpuShares;
  /** The process is this key's alone (stdio): its processing time is neither rationed nor shared. */
  readonly #alone: boolean;

  constructor(
    limits: RateLimits = POSTHOG_PERSONAL_KEY_LIMITS,
    private readonly maxWaitMs = 30_000,
    now: () => number = () => performance.now(),
  ) {
    const shares = limits.shares ?? PROCESS_CPU_SHARES;
    this.#shares = shares;
    this.#windows = [
      new SlidingWindow(limits.perMinute, 60_000 + MARGIN_MS, now),
      new SlidingWindow(limits.perHour, 3_600_000 + MARGIN_MS, now),
    ];
    const most = limits.cpuMsPerMinute ?? CPU_MS_PER_MINUTE;
    this.#cpu = new CpuWindow(() => shares.shareMs(this, most), 60_000, now);
    this.#alone = most === Number.POSITIVE_INFINITY;
  }

  /** Counts `ms` of processing time (this server's thread or a conversion worker) against the key. */
  chargeCpu(ms: number): void {
    this.#cpu.charge(ms);
    if (!this.#alone && ms > 0) this.#shares.spent(this);
  }

  /** Processing time the key used in the last minute, in milliseconds. */
  cpuSpentMs(): number {
    return this.#cpu.spentMs();
  }

  /** Milliseconds until the key is back under its share of processing time (0: it is now). */
  cpuWaitMs(): number {
    return this.#cpu.waitMs();
  }

  /** What the key spent, and when it has room again, while it is over its share (else undefined). */
  overShare(): CpuBudgetSpent | undefined {
    const wait = this.#cpu.waitMs();
    if (wait === 0) return undefined;
    return new CpuBudgetSpent(wait, this.#cpu.spentMs(), this.#cpu.budgetMs(), this.#shares.busy(this));
  }

  /**
   * Whether a call may start its work: room for a request in every window and the key under its
   * share of processing time, waiting for them if the wait is short. Takes nothing (the call's
   * requests take their places as they are sent), so a call held back here has spent nothing.
   * Throws `RateLimitExceeded` or `CpuBudgetSpent` when the wait would be too long.
   */
  async admit(signal?: AbortSignal): Promise<void> {
    for (;;) {
      let requests = 0;
      for (const window of this.#windows) requests = Math.max(requests, window.waitMs());
      const cpu = this.#cpu.waitMs();
      if (requests === 0 && cpu === 0) return;
      if (cpu > this.maxWaitMs) throw this.overShare();
      if (requests > this.maxWaitMs) throw new RateLimitExceeded(requests);
      await sleep(Math.max(requests, cpu), signal);
    }
  }

  /** Takes a place in every window if there is room in all of them now; false otherwise. */
  tryTake(): boolean {
    return this.#waitMs() === 0;
  }

  /** Takes a place in every window, waiting if needed; throws `RateLimitExceeded` when the wait would be too long. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.#waitMs();
      if (wait === 0) return;
      if (wait > this.maxWaitMs) throw new RateLimitExceeded(wait);
      await sleep(wait, signal);
    }
  }

  /** How long until every window has room (0: room now, and the place is taken). */
  #waitMs(): number {
    let wait = 0;
    for (const window of this.#windows) wait = Math.max(wait, window.waitMs());
    if (wait === 0) for (const window of this.#windows) window.take();
    return wait;
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
