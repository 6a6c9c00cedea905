/**
 * Personal API keys, kept out of what leaves the server. A `Secrets` set replaces each of its keys
 * in text, and every piece of one: a run of at least 10 of its first or last characters, as a cut
 * through the key leaves at the end of one part or the start of the next.
 *
 * Two kinds of sets: each upstream client's (its own key: what its session's results and messages
 * are redacted with, so that one tenant's output never depends on another's key), and the
 * process's (every key in use: what the log is redacted with).
 */

import { prefixRuns, type SearchSteps } from "./text-search.js";

const REDACTED = "[redacted]";
/** The shortest piece of a key that is redacted when found alone (a key cut in two, say). */
const MIN_PIECE = 10;
/** Keys this short or shorter are looked for whole only. */
const MIN_KEY = 8;
/** Up to this many keys, each is searched for directly; beyond, a text is first sieved by window. */
const DIRECT_KEYS = 4;

export class Secrets {
  readonly #keys = new Set<string>();
  /** With many keys: each key's first and last MIN_KEY characters, to the keys they start or end. */
  readonly #windows = new Map<string, Set<string>>();

  constructor(keys: Iterable<string | undefined> = []) {
    for (const key of keys) this.add(key);
  }

  /** Remembers a key (and its JSON-escaped form). Keys under 8 characters are not secrets. */
  add(key: string | undefined): void {
    if (!key || key.length < MIN_KEY || this.#keys.has(key)) return;
    this.#remember(key);
    const escaped = JSON.stringify(key).slice(1, -1);
    if (escaped !== key) this.#remember(escaped);
  }

  delete(key: string): void {
    this.#forget(key);
    this.#forget(JSON.stringify(key).slice(1, -1));
  }

  #remember(key: string): void {
    this.#keys.add(key);
    for (const window of [key.slice(0, MIN_KEY), key.slice(-MIN_KEY)]) {
      const keys = this.#windows.get(window) ?? new Set<string>();
      this.#windows.set(window, keys);
      keys.add(key);
    }
  }

  #forget(key: string): void {
    if (!this.#keys.delete(key)) return;
    for (const window of [key.slice(0, MIN_KEY), key.slice(-MIN_KEY)]) {
      const keys = this.#windows.get(window);
      keys?.delete(key);
      if (keys?.size === 0) this.#windows.delete(window);
    }
  }

  /** The keys that may occur in `text` (every key, when there are few). */
  #candidates(text: string): Iterable<string> {
    if (this.#keys.size <= DIRECT_KEYS) return this.#keys;
    const found = new Set<string>();
    for (let i = 0; i + MIN_KEY <= text.length; i++) {
      const keys = this.#windows.get(text.slice(i, i + MIN_KEY));
      if (keys) for (const key of keys) found.add(key);
    }
    return found;
  }

  /**
   * `text` with every key and every piece of one replaced: one pass per key that may occur in it,
   * each linear in the text (`steps` counts the comparisons made).
   */
  redact(text: string, steps?: SearchSteps): string {
    if (this.#keys.size === 0 || text.length < MIN_KEY) return text;
    // cover[i]: the end of the furthest-reaching span to redact that starts at i (0: none).
    let cover: Int32Array | undefined;
    for (const key of this.#candidates(text)) {
      const least = key.length >= MIN_PIECE * 2 ? MIN_PIECE : key.length;
      const heads = prefixRuns(text, key, false, steps);
      const tails = prefixRuns(text, key, true, steps);
      for (let i = 0; i < text.length; i++) {
        const head = heads[i] as number;
        const tail = tails[i] as number;
        if (head >= least) {
          cover ??= new Int32Array(text.length);
          if (i + head > (cover[i] as number)) cover[i] = i + head;
        }
        if (tail >= least) {
          cover ??= new Int32Array(text.length);
          const start = i - tail + 1;
          if (i + 1 > (cover[start] as number)) cover[start] = i + 1;
        }
      }
    }
    if (!cover) return text;
    let out = "";
    let kept = 0;
    // Spans that overlap or touch become one "[redacted]".
    for (let i = 0, end = -1; i < text.length; i++) {
      const reach = cover[i] as number;
      if (reach <= i || reach <= end) continue;
      if (i > end) out += text.slice(kept, i) + REDACTED;
      end = reach;
      kept = end;
    }
    return out + text.slice(kept);
  }

  /** `value` with every key replaced in every string, object keys included (a copy if any changed). */
  redactDeep<T>(value: T): T {
    if (this.#keys.size === 0) return value;
    const json = JSON.stringify(value);
    if (json === undefined) return value;
    const clean = this.redact(json);
    return clean === json ? value : (JSON.parse(clean) as T);
  }
}

/** Every key the process holds: for the log, and for what a process with one key shows. */
export const processSecrets = new Secrets();

export function registerSecret(key: string | undefined): void {
  processSecrets.add(key);
}

export function forgetSecret(key: string): void {
  processSecrets.delete(key);
}

export function redactSecrets(text: string): string {
  return processSecrets.redact(text);
}
