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
/**
 * Up to this many forms (a few keys), a text is scanned once for each form's ends; beyond (the
 * process's every key, for the log), it is sieved in one pass, window by window.
 */
const DIRECT_KEYS = 64;

/**
 * The forms a key takes when something upstream re-encodes it, each with the shortest piece of it
 * redacted alone (about 10 of the key's characters): hex, %-encoding of every byte, and base64 and
 * base64url at each of the three alignments a key can have inside a longer encoded text (the part
 * that does not depend on its neighbours). Upper and lower case come from comparing the key, hex
 * and %-encoding without case.
 */
function encodedForms(key: string): Array<[string, number]> {
  const bytes = Buffer.from(key, "utf8");
  const hex = bytes.toString("hex");
  // (The key itself, hex and %-encoding are looked for in any case: see FOLDED.)
  const forms: Array<[string, number]> = [
    [hex, MIN_PIECE * 2],
    [hex.replace(/(..)/g, "%$1"), MIN_PIECE * 3],
  ];
  for (let shift = 0; shift < 3; shift++) {
    const whole = bytes.subarray(shift, shift + Math.floor((bytes.length - shift) / 3) * 3);
    forms.push([whole.toString("base64"), 14], [whole.toString("base64url"), 14]);
  }
  return forms;
}

export class Secrets {
  /** Each form looked for, with the shortest piece of it redacted alone. */
  readonly #keys = new Map<string, number>();
  /** The forms compared without case (the key itself, hex, %-encoding). */
  readonly #folded = new Set<string>();
  /** With many keys: each key's first and last MIN_KEY characters, to the keys they start or end. */
  readonly #windows = new Map<string, Set<string>>();

  constructor(keys: Iterable<string | undefined> = []) {
    for (const key of keys) this.add(key);
  }

  /** Remembers a key (and its JSON-escaped form). Keys under 8 characters are not secrets. */
  add(key: string | undefined): void {
    if (!key || key.length < MIN_KEY || this.#keys.has(key)) return;
    for (const [form, least] of this.#forms(key)) this.#remember(form, least);
    if (key.length >= MIN_PIECE * 2) {
      const hex = Buffer.from(key, "utf8").toString("hex");
      for (const form of [key, hex, hex.replace(/(..)/g, "%$1")]) this.#folded.add(form);
    }
  }

  delete(key: string): void {
    for (const [form] of this.#forms(key)) {
      this.#forget(form);
      this.#folded.delete(form);
    }
  }

  #forms(key: string): Array<[string, number]> {
    const least = key.length >= MIN_PIECE * 2 ? MIN_PIECE : key.length;
    const forms: Array<[string, number]> = [
      [key, least],
      [JSON.stringify(key).slice(1, -1), least],
    ];
    // Short keys (test keys, say) are looked for as they are only.
    if (key.length >= MIN_PIECE * 2) forms.push(...encodedForms(key));
    return forms.filter(([form, least]) => form.length >= MIN_KEY && least <= form.length);
  }

  #remember(key: string, least: number): void {
    if (this.#keys.has(key)) return;
    this.#keys.set(key, least);
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
    const found = new Set<string>();
    if (this.#keys.size <= DIRECT_KEYS) {
      // A few keys (one client's, in each of its forms): a scan for each form's first and last
      // characters, at most MIN_KEY comparisons a character each.
      let lower: string | undefined;
      for (const key of this.#keys.keys()) {
        const folded = this.#folded.has(key);
        if (folded) lower ??= text.toLowerCase();
        const within = folded ? (lower as string) : text;
        const ends = [key.slice(0, MIN_KEY), key.slice(-MIN_KEY)];
        if (ends.some((end) => within.includes(folded ? end.toLowerCase() : end))) found.add(key);
      }
      return found;
    }
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
    let lower: string | undefined;
    for (const key of this.#candidates(text)) {
      const least = this.#keys.get(key) as number;
      const folded = this.#folded.has(key);
      // A run of `least` or more of the key's first (last) characters holds its first (last)
      // `least`: where neither occurs, that pass has nothing to find (one native search each).
      if (folded) lower ??= text.toLowerCase();
      const within = folded ? (lower as string) : text;
      const has = (end: string) => within.includes(folded ? end.toLowerCase() : end);
      const heads = has(key.slice(0, least)) ? prefixRuns(text, key, false, steps, folded) : undefined;
      const tails = has(key.slice(-least)) ? prefixRuns(text, key, true, steps, folded) : undefined;
      if (!heads && !tails) continue;
      for (let i = 0; i < text.length; i++) {
        const head = heads ? (heads[i] as number) : 0;
        const tail = tails ? (tails[i] as number) : 0;
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

/** How many holders (clients) each key of `processSecrets` has: it is forgotten with its last. */
const holders = new Map<string, number>();

export function registerSecret(key: string | undefined): void {
  if (!key) return;
  const held = holders.get(key) ?? 0;
  holders.set(key, held + 1);
  if (held === 0) processSecrets.add(key);
}

/** One holder of `key` let go of it; the log stops redacting it only once none holds it. */
export function forgetSecret(key: string): void {
  const held = holders.get(key) ?? 0;
  if (held > 1) {
    holders.set(key, held - 1);
    return;
  }
  holders.delete(key);
  if (held === 1) processSecrets.delete(key);
}

export function redactSecrets(text: string): string {
  return processSecrets.redact(text);
}
