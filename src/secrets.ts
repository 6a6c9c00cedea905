/**
 * The personal API keys this process holds. Every string that leaves the server (JSON-RPC
 * messages, log lines, terminal output) has them replaced, and text is redacted before it is cut,
 * so that no part of a key survives either.
 */

const keys = new Set<string>();
let pattern: RegExp | undefined;

const REDACTED = "[redacted]";

/** Remembers a key (and its JSON-escaped form) for redaction. Keys under 8 characters are not secrets. */
export function registerSecret(key: string | undefined): void {
  if (!key || key.length < 8 || keys.has(key)) return;
  keys.add(key);
  const escaped = JSON.stringify(key).slice(1, -1);
  if (escaped !== key) keys.add(escaped);
  compile();
}

export function forgetSecret(key: string): void {
  keys.delete(key);
  keys.delete(JSON.stringify(key).slice(1, -1));
  compile();
}

function compile(): void {
  const alternatives = [...keys].sort((a, b) => b.length - a.length).map(escapeRegExp);
  pattern = alternatives.length === 0 ? undefined : new RegExp(alternatives.join("|"), "g");
}

/** The shortest piece of a key that is redacted when found alone (a key cut in two, say). */
const MIN_PIECE = 10;

/**
 * `text` with every registered key replaced, and every piece of one: a run of at least 10 of its
 * first or last characters, as a cut through the key leaves at the end of one part or the start of
 * the next.
 */
export function redactSecrets(text: string): string {
  if (!pattern) return text;
  pattern.lastIndex = 0;
  let out = pattern.test(text) ? text.replace(pattern, REDACTED) : text;
  for (const key of keys) {
    if (key.length < MIN_PIECE * 2) continue;
    out = redactHeads(out, key);
    out = redactTails(out, key);
  }
  return out;
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

/** `value` with every registered key replaced in every string, object keys included (a copy if any changed). */
export function redactDeep<T>(value: T): T {
  if (!pattern) return value;
  const json = JSON.stringify(value);
  if (json === undefined) return value;
  const clean = redactSecrets(json);
  return clean === json ? value : (JSON.parse(clean) as T);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
