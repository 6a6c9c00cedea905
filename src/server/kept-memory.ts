/**
 * What an HTTP server keeps between requests, for as long as its clients want it (2025 sessions,
 * 2026 listen streams), held to one budget in bytes for the whole process and shared out fairly
 * among the keys holding it.
 *
 * Each thing kept counts what it holds at most, as measured (`bench/kept-memory.mjs`): its SDK
 * server and handlers, what it keeps of its request, by the request's length, and (a session) the
 * most it may watch, so that the budget bounds what they all hold whatever their clients send.
 * When the budget is full, a new one is made room for by letting go of the least recently used of
 * the biggest holder's, as long as that holder would still hold as much as the key asking;
 * otherwise of the key's own least recently used. A key holding little always finds room, and a
 * key holding the most cannot keep others out. A key with nothing of its own to give up, when no
 * holder holds more, is refused (503): every key then holds an equal part.
 */

/** Something kept, as the budget sees it. */
export interface Kept<Owner> {
  readonly owner: Owner;
  /** The most it may hold, in bytes. */
  readonly bytes: number;
  /** When it was last used, as `KeptMemory.stamp` marks it (the least recently used goes first). */
  lastUsed(): number;
  /** Whether it may be let go now (a session answering a request may not). */
  idle(): boolean;
  /** Lets it go (closes it); it is no longer counted once this is called. */
  letGo(why: string): void;
}

export class KeptMemory<Owner> {
  readonly #held = new Map<Owner, { bytes: number; items: Set<Kept<Owner>> }>();
  #used = 0;
  #uses = 0;

  constructor(readonly budgetBytes: number) {}

  /**
   * A mark of "now" for `lastUsed`, larger at each call: what every kept thing's use is told in,
   * so that sessions and streams are ordered by one clock (a session's count of uses against a
   * stream's time in milliseconds always let the session go first).
   */
  stamp(): number {
    this.#uses += 1;
    return this.#uses;
  }

  /** Bytes counted now, for all keys. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Bytes counted now for `owner`. */
  heldBy(owner: Owner): number {
    return this.#held.get(owner)?.bytes ?? 0;
  }

  /**
   * Counts `item`, making room for it as above; false (nothing counted, nothing let go) when no
   * key holds more than `item`'s owner would.
   */
  take(item: Kept<Owner>): boolean {
    if (item.bytes > this.budgetBytes) return false;
    // What gives way is chosen first, and let go only when it makes room enough.
    const victims = new Set<Kept<Owner>>();
    const given = new Map<Owner, number>();
    let free = this.budgetBytes - this.#used;
    while (free < item.bytes) {
      const victim = this.#victimFor(item, victims, given);
      if (!victim) return false;
      victims.add(victim);
      given.set(victim.owner, (given.get(victim.owner) ?? 0) + victim.bytes);
      free += victim.bytes;
    }
    for (const victim of victims) {
      this.release(victim);
      victim.letGo("the server's memory for sessions and streams is full, and its key holds the most of it");
    }
    const own = this.#held.get(item.owner) ?? { bytes: 0, items: new Set<Kept<Owner>>() };
    this.#held.set(item.owner, own);
    own.items.add(item);
    own.bytes += item.bytes;
    this.#used += item.bytes;
    return true;
  }

  /** Stops counting `item` (it closed); nothing when it is not counted. */
  release(item: Kept<Owner>): void {
    const own = this.#held.get(item.owner);
    if (!own?.items.delete(item)) return;
    own.bytes -= item.bytes;
    this.#used -= item.bytes;
    if (own.items.size === 0) this.#held.delete(item.owner);
  }

  /**
   * What gives way to `item`: the least recently used idle thing of the biggest other holder, if
   * that holder would still hold at least as much as the asking key once it has given it up;
   * otherwise the asking key's own least recently used idle thing (its newest replaces its oldest).
   */
  #victimFor(
    item: Kept<Owner>,
    chosen: Set<Kept<Owner>>,
    given: Map<Owner, number>,
  ): Kept<Owner> | undefined {
    const holding = (owner: Owner, bytes: number) => bytes - (given.get(owner) ?? 0);
    const asking = holding(item.owner, this.heldBy(item.owner)) + item.bytes;
    let biggest: { bytes: number; oldest: Kept<Owner> } | undefined;
    for (const [owner, held] of this.#held) {
      const bytes = holding(owner, held.bytes);
      if (owner === item.owner || (biggest && biggest.bytes >= bytes)) continue;
      const oldest = leastRecentlyUsedIdle(held.items, chosen);
      if (oldest) biggest = { bytes, oldest };
    }
    if (biggest && biggest.bytes - biggest.oldest.bytes >= asking) return biggest.oldest;
    const own = this.#held.get(item.owner);
    return own && leastRecentlyUsedIdle(own.items, chosen);
  }
}

function leastRecentlyUsedIdle<Owner>(
  items: Iterable<Kept<Owner>>,
  chosen: Set<Kept<Owner>>,
): Kept<Owner> | undefined {
  let oldest: Kept<Owner> | undefined;
  for (const item of items) {
    if (chosen.has(item) || !item.idle()) continue;
    if (!oldest || item.lastUsed() < oldest.lastUsed()) oldest = item;
  }
  return oldest;
}

/** Why a new session or stream (`what`) is refused when the budget is full. */
export function memoryFull(memory: KeptMemory<unknown>, what: "session" | "listen stream"): string {
  const mb = Math.round(memory.budgetBytes / (1024 * 1024));
  return `This server cannot keep another ${what}: what it keeps for sessions and listen streams is full (${mb} MB), shared equally among keys, and this key holds its part with none of it idle. Close a session or stream this key no longer uses, or try again in a minute.`;
}

/** Counted in steps of 16 KB (what a request adds is then the same for any short one). */
const STEP = 16 * 1024;

/** `bytes` counted in whole steps. */
export function inSteps(bytes: number): number {
  return Math.ceil(bytes / STEP) * STEP;
}

/** The length of `message` as JSON (once per session or stream: at most a body's length). */
export function jsonLength(message: unknown): number {
  return JSON.stringify(message)?.length ?? 0;
}
