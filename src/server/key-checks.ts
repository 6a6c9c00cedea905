/**
 * Places for new keys being checked with PostHog: at most 100 at once, 10 of them brought by one
 * client address. A key beyond waits for a place (served in turn, one address after another, so
 * that a client sending made-up keys by the hundred waits behind itself, not ahead of others) for
 * up to 5 s, and is then told to come back. Clients on this machine (a proxy in front, whose
 * clients all come from its address) are bound by the 100 only, and wait in turn among themselves.
 * (300 made-up keys at once from one client, PostHog answering each check in 200 ms, held every
 * place, and every new tenant was refused for as long as it went on.)
 */

/** Keys being checked at once, at most. */
export const MAX_CHECKING = 100;
/** Of those, brought by one client address other than this machine's, at most. */
export const MAX_CHECKING_PER_ADDRESS = 10;
/** Keys waiting for a place, at most; past it, a new key is told to come back at once. */
const MAX_WAITING = 1_000;
/** Of those, from one client address other than this machine's. */
const MAX_WAITING_PER_ADDRESS = 20;
/** How long a key waits for a place, at most. */
const WAIT_MS = 5_000;

interface Waiter {
  resolve(taken: boolean): void;
  timer: NodeJS.Timeout;
}

/** `from`: the client's address, or "" for this machine's (bound by the whole only). */
export class KeyChecks {
  #checking = 0;
  readonly #checkingFrom = new Map<string, number>();
  /** Waiters by address, addresses in the order they are served next. */
  readonly #waiting = new Map<string, Waiter[]>();
  #waiters = 0;

  /**
   * A place to check a key (true), at once or after waiting its turn; false when none came in time
   * or too many wait already (the caller tells the client to come back), or when `gone` aborts (its
   * client went away: it waits no longer, and leaves its turn to the others).
   */
  take(from: string, gone?: AbortSignal): Promise<boolean> {
    if (gone?.aborted) return Promise.resolve(false);
    // (Whoever waits while a place is free waits for their own address's places, not this one.)
    if (this.#free(from) && !this.#waiting.has(from)) {
      this.#hold(from);
      return Promise.resolve(true);
    }
    const queue = this.#waiting.get(from) ?? [];
    if (this.#waiters >= MAX_WAITING || (from !== "" && queue.length >= MAX_WAITING_PER_ADDRESS)) {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const leave = () => {
        const left = this.#waiting.get(from);
        const at = left?.indexOf(waiter) ?? -1;
        if (!left || at === -1) return;
        left.splice(at, 1);
        if (left.length === 0) this.#waiting.delete(from);
        this.#waiters -= 1;
        clearTimeout(waiter.timer);
        resolve(false);
      };
      const waiter: Waiter = {
        resolve: (taken) => {
          gone?.removeEventListener("abort", leave);
          resolve(taken);
        },
        timer: setTimeout(leave, WAIT_MS),
      };
      gone?.addEventListener("abort", leave, { once: true });
      queue.push(waiter);
      this.#waiting.set(from, queue);
      this.#waiters += 1;
    });
  }

  /** Gives back the place `from` took; the next waiter whose address may hold one takes it. */
  give(from: string): void {
    this.#checking -= 1;
    const held = (this.#checkingFrom.get(from) ?? 1) - 1;
    if (held > 0) this.#checkingFrom.set(from, held);
    else this.#checkingFrom.delete(from);
    for (const [address, queue] of this.#waiting) {
      if (!this.#free(address)) continue;
      const waiter = queue.shift() as Waiter;
      // Served: the address goes to the back of the turn (or out, with nobody left waiting).
      this.#waiting.delete(address);
      if (queue.length > 0) this.#waiting.set(address, queue);
      this.#waiters -= 1;
      clearTimeout(waiter.timer);
      this.#hold(address);
      waiter.resolve(true);
      return;
    }
  }

  /** Whether `from` may take a place now. */
  #free(from: string): boolean {
    if (this.#checking >= MAX_CHECKING) return false;
    return from === "" || (this.#checkingFrom.get(from) ?? 0) < MAX_CHECKING_PER_ADDRESS;
  }

  #hold(from: string): void {
    this.#checking += 1;
    this.#checkingFrom.set(from, (this.#checkingFrom.get(from) ?? 0) + 1);
  }
}
