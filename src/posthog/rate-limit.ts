/**
 * Client-side limits that keep this server under PostHog's per-key rate limits (480 requests a
 * minute, 4800 an hour), so an agent firing many calls at once gets answers rather than 429s.
 * Two token buckets, both must have a token; a caller waits for one, up to a bound.
 */

export interface RateLimits {
  perMinute: number;
  perHour: number;
}

export const POSTHOG_PERSONAL_KEY_LIMITS: RateLimits = { perMinute: 480, perHour: 4800 };

class Bucket {
  #tokens: number;
  #updated: number;

  constructor(
    readonly capacity: number,
    readonly refillPerMs: number,
    private readonly now: () => number,
  ) {
    this.#tokens = capacity;
    this.#updated = now();
  }

  #refill(): void {
    const at = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + (at - this.#updated) * this.refillPerMs);
    this.#updated = at;
  }

  /** Milliseconds until a token is available (0: now). */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.refillPerMs);
  }

  take(): void {
    this.#tokens -= 1;
  }
}

export class RateLimitExceeded extends Error {
  override name = "RateLimitExceeded";
  constructor(readonly waitMs: number) {
    super(`the key's request budget is spent for the next ${Math.ceil(waitMs / 1000)} seconds`);
  }
}

export class RateLimiter {
  readonly #buckets: Bucket[];

  constructor(
    limits: RateLimits = POSTHOG_PERSONAL_KEY_LIMITS,
    private readonly maxWaitMs = 30_000,
    now: () => number = () => performance.now(),
  ) {
    this.#buckets = [
      new Bucket(limits.perMinute, limits.perMinute / 60_000, now),
      new Bucket(limits.perHour, limits.perHour / 3_600_000, now),
    ];
  }

  /** Takes a token, waiting if needed; throws `RateLimitExceeded` when the wait would be too long. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = Math.max(...this.#buckets.map((b) => b.waitMs()));
      if (wait === 0) {
        for (const bucket of this.#buckets) bucket.take();
        return;
      }
      if (wait > this.maxWaitMs) throw new RateLimitExceeded(wait);
      await sleep(wait, signal);
    }
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
