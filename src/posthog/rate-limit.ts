/**
 * Client-side limits that keep this server under PostHog's per-key rate limits (480 requests a
 * minute, 4800 an hour), so an agent firing many calls at once gets answers rather than 429s.
 *
 * PostHog counts with DRF's SimpleRateThrottle: a sliding window, at most N requests in any
 * minute (and any hour). A token bucket of N tokens refilling N a minute lets nearly 2N through
 * in a minute's window (the full bucket, then the refill), so this keeps the same sliding windows
 * PostHog does, with a margin for the time requests take to arrive. A caller waits for room, up
 * to a bound; past it the request is refused here, before PostHog would refuse it.
 */

export interface RateLimits {
  perMinute: number;
  perHour: number;
}

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

export class RateLimitExceeded extends Error {
  override name = "RateLimitExceeded";
  constructor(readonly waitMs: number) {
    super(`the key's request budget is spent for the next ${Math.ceil(waitMs / 1000)} seconds`);
  }
}

export class RateLimiter {
  readonly #windows: SlidingWindow[];

  constructor(
    limits: RateLimits = POSTHOG_PERSONAL_KEY_LIMITS,
    private readonly maxWaitMs = 30_000,
    now: () => number = () => performance.now(),
  ) {
    this.#windows = [
      new SlidingWindow(limits.perMinute, 60_000 + MARGIN_MS, now),
      new SlidingWindow(limits.perHour, 3_600_000 + MARGIN_MS, now),
    ];
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
