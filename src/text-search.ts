/**
 * String search in time linear in the text and the pattern, whatever they hold: what the tools run
 * over agent- and PostHog-sized input (a passage to replace, a key to redact) on the server's own
 * thread. `String.prototype.indexOf` in a loop is not: a pattern of 150,000 `a`s with one `b` in
 * the middle, searched for in 600,000 `a`s, costs the product of the two lengths.
 *
 * Both functions here are textbook: Knuth–Morris–Pratt for every place a pattern occurs, and the
 * Z-function (over pattern and text laid end to end) for how much of a pattern starts at each
 * place. `steps`, when given, counts the comparisons made, so that tests can check the bound
 * without a clock.
 */
import { metered } from "./cpu-account.js";

export interface SearchSteps {
  count: number;
}

/**
 * Where `pattern` (not empty) starts in `text`, in order: every place, overlapping ones included;
 * with `apart`, without overlapping, leftmost first (as a replace-all reads them). At most `limit`
 * places. The time it takes is charged to the current call's key.
 */
function scan(
  text: string,
  pattern: string,
  apart: boolean,
  limit: number,
  steps: SearchSteps | undefined,
): number[] {
  const m = pattern.length;
  const found: number[] = [];
  if (m === 0 || m > text.length || limit <= 0) return found;
  return metered(() => {
    // fail[i]: length of the longest proper border of pattern[0..i].
    const fail = new Int32Array(m);
    let work = 0;
    for (let i = 1, k = 0; i < m; i++) {
      while (k > 0 && pattern.charCodeAt(i) !== pattern.charCodeAt(k)) {
        k = fail[k - 1] as number;
        work++;
      }
      if (pattern.charCodeAt(i) === pattern.charCodeAt(k)) k++;
      fail[i] = k;
      work++;
    }
    for (let i = 0, k = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      while (k > 0 && c !== pattern.charCodeAt(k)) {
        k = fail[k - 1] as number;
        work++;
      }
      if (c === pattern.charCodeAt(k)) k++;
      work++;
      if (k === m) {
        found.push(i - m + 1);
        if (found.length >= limit) break;
        // Apart: the next occurrence starts after this one ends, matched from scratch.
        k = apart ? 0 : (fail[m - 1] as number);
      }
    }
    if (steps) steps.count += work;
    return found;
  });
}

/** Where `pattern` (not empty) starts in `text`, every place, overlapping ones included, in order. */
export function findAll(text: string, pattern: string, steps?: SearchSteps): number[] {
  return scan(text, pattern, false, Number.POSITIVE_INFINITY, steps);
}

/**
 * Where `pattern` occurs in `text` without overlapping, leftmost first (as a replace-all reads
 * them), the first `limit` of them.
 */
export function findApart(
  text: string,
  pattern: string,
  steps?: SearchSteps,
  limit = Number.POSITIVE_INFINITY,
): number[] {
  return scan(text, pattern, true, limit, steps);
}

/**
 * For each place `i` of `text`, how many of `pattern`'s first characters start there (0 to
 * `pattern.length`). With `reversed`, read both backwards: for each place `i`, how many of
 * `pattern`'s last characters end there. With `foldCase`, ASCII letters match either case.
 */
export function prefixRuns(
  text: string,
  pattern: string,
  reversed = false,
  steps?: SearchSteps,
  foldCase = false,
): Int32Array {
  const m = pattern.length;
  const n = text.length;
  const s = new Uint16Array(m + n);
  if (reversed) {
    for (let i = 0; i < m; i++) s[i] = pattern.charCodeAt(m - 1 - i);
    for (let i = 0; i < n; i++) s[m + i] = text.charCodeAt(n - 1 - i);
  } else {
    for (let i = 0; i < m; i++) s[i] = pattern.charCodeAt(i);
    for (let i = 0; i < n; i++) s[m + i] = text.charCodeAt(i);
  }
  if (foldCase) {
    // ASCII letters compared without their case.
    for (let i = 0; i < m + n; i++) {
      const c = s[i] as number;
      if (c >= 65 && c <= 90) s[i] = c + 32;
    }
  }
  // The Z-function: z[i] = longest common prefix of s and s[i..].
  const total = m + n;
  const z = new Int32Array(total);
  let work = 0;
  for (let i = 1, l = 0, r = 0; i < total; i++) {
    let k = i < r ? Math.min(r - i, z[i - l] as number) : 0;
    while (i + k < total && s[k] === s[i + k]) {
      k++;
      work++;
    }
    work++;
    z[i] = k;
    if (i + k > r) {
      l = i;
      r = i + k;
    }
  }
  if (steps) steps.count += work;
  const runs = z.subarray(m);
  for (let i = 0; i < n; i++) if ((runs[i] as number) > m) runs[i] = m;
  return reversed ? runs.reverse() : runs;
}
