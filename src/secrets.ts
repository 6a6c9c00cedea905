/**
 * Personal API keys, kept out of what leaves the server. A `Secrets` set replaces each of its keys
 * in text, and every piece of one: a run of at least 10 of its first or last characters, as a cut
 * through the key leaves at the end of one part or the start of the next.
 *
 * Two kinds of sets: each upstream client's (its own key: what its session's results and messages
 * are redacted with, so that one tenant's output never depends on another's key), and the
 * process's (every key in use: what the log is redacted with).
 */

const REDACTED = "[redacted]";
/** The shortest piece of a key that is redacted when found alone (a key cut in two, say). */
const MIN_PIECE = 10;

export class Secrets {
  readonly #keys = new Set<string>();
  #pattern: RegExp | undefined;

  constructor(keys: Iterable<string | undefined> = []) {
    for (const key of keys) this.add(key);
  }

  /** Remembers a key (and its JSON-escaped form). Keys under 8 characters are not secrets. */
  add(key: string | undefined): void {
    if (!key || key.length < 8 || this.#keys.has(key)) return;
    this.#keys.add(key);
    const escaped = JSON.stringify(key).slice(1, -1);
    if (escaped !== key) this.#keys.add(escaped);
    this.#compile();
  }

  delete(key: string): void {
    this.#keys.delete(key);
    this.#keys.delete(JSON.stringify(key).slice(1, -1));
    this.#compile();
  }

  #compile(): void {
    const alternatives = [...this.#keys].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.#pattern = alternatives.length === 0 ? undefined : new RegExp(alternatives.join("|"), "g");
  }

  /** `text` with every key and every piece of one replaced. */
  redact(text: string): string {
    const pattern = this.#pattern;
    if (!pattern) return text;
    pattern.lastIndex = 0;
    let out = pattern.test(text) ? text.replace(pattern, REDACTED) : text;
    for (const key of this.#keys) {
      if (key.length < MIN_PIECE * 2) continue;
      out = redactHeads(out, key);
      out = redactTails(out, key);
    }
    return out;
  }

  /** `value` with every key replaced in every string, object keys included (a copy if any changed). */
  redactDeep<T>(value: T): T {
    if (!this.#pattern) return value;
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

/** Runs of the key's first characters (at least MIN_PIECE of them). */
function redactHeads(text: string, key: string): string {
  const head = key.slice(0, MIN_PIECE);
  let at = text.indexOf(head);
  while (at !== -1) {
    let n = MIN_PIECE;
    while (n < key.length && text[at + n] === key[n]) n++;
    text = `${text.slice(0, at)}${REDACTED}${text.slice(at + n)}`;
    at = text.indexOf(head, at + REDACTED.length);
  }
  return text;
}

/** Runs of the key's last characters (at least MIN_PIECE of them). */
function redactTails(text: string, key: string): string {
  const tail = key.slice(-MIN_PIECE);
  let at = text.indexOf(tail);
  while (at !== -1) {
    const end = at + MIN_PIECE;
    let start = at;
    let k = key.length - MIN_PIECE;
    while (start > 0 && k > 0 && text[start - 1] === key[k - 1]) {
      start--;
      k--;
    }
    text = `${text.slice(0, start)}${REDACTED}${text.slice(end)}`;
    at = text.indexOf(tail, start + REDACTED.length);
  }
  return text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
