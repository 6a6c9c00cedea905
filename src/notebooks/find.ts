/**
 * Finding without reading: where a text or a regular expression occurs in a notebook's Markdown
 * (with a little context and the heading it is under), and the notebook's outline (its headings
 * with offsets and sizes). Offsets are those of the Markdown that notebooks-retrieve shows, so an
 * agent can read one section with `offset` and `max_length`, or copy a passage into an edit.
 *
 * Cost: regular expressions run on RE2 (the `re2js` port), which never backtracks, so no pattern
 * can make a search take exponential time (as JavaScript's own RegExp can: `(a+)+b`). RE2 leaves
 * out what needs backtracking (backreferences, lookaround); `(?i)` ignores case. Its time is the
 * text's length times, at worst, the size of the pattern's program: that size is capped
 * (MAX_PROGRAM), a pattern is matched line by line (as grep does) in slices between which other
 * calls run, a line only if its length times that size is within LINE_STEPS (one search of a line
 * cannot be cut short), one search of a key at a time, and it searches for REGEX_BUDGET_MS at
 * most, saying where it stopped. Text is found as written (as edits match it) in one linear pass
 * (Knuth–Morris–Pratt). The engine loads on first use.
 */
import { AtMost } from "../at-most.js";
import { type CpuAccount, chargeCpu, currentAccount } from "../cpu-account.js";
import { toolError } from "../posthog/errors.js";
import { findApart } from "../text-search.js";

export interface Heading {
  level: number;
  /** The heading's text, without its leading `#`s. */
  text: string;
  /** Where its line starts in the Markdown. */
  offset: number;
  /** Characters from its line to the next heading of the same or a higher level (or the end). */
  size: number;
}

/** What opens a heading (ATX): up to three spaces, one to six `#`s, then a space, a tab or the end. */
const ATX_OPEN = /^ {0,3}(#{1,6})(?=[ \t]|$)/;
/** Characters a line of a heading cannot hold (the `.` of a pattern does not match them). */
const NOT_IN_LINE = /[\n\r\u2028\u2029]/;

const blank = (code: number) => code === 32 || code === 9;

/**
 * The heading `line` opens (ATX), as PostHog's Markdown writes them: its level and its text without
 * the opening `#`s, the spaces around it and a closing run of `#`s after a space. One pass over the
 * line, back and forth from its ends: no pattern that could backtrack over its length (the pattern
 * `^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`, which this reads as, costs the square of
 * a line of spaces).
 */
export function atxHeading(line: string): { level: number; text: string } | undefined {
  const open = ATX_OPEN.exec(line);
  if (!open || NOT_IN_LINE.test(line)) return undefined;
  const level = (open[1] as string).length;
  let start = open[0].length;
  while (start < line.length && blank(line.charCodeAt(start))) start++;
  let end = line.length;
  while (end > start && blank(line.charCodeAt(end - 1))) end--;
  // A closing run of `#`s counts as one only after a space or a tab that follows the text's start.
  let hashes = end;
  while (hashes > start && line.charCodeAt(hashes - 1) === 35) hashes--;
  if (hashes < end && hashes > start && blank(line.charCodeAt(hashes - 1))) {
    end = hashes;
    while (end > start && blank(line.charCodeAt(end - 1))) end--;
  }
  return { level, text: line.slice(start, end) };
}
/** A line that opens or closes a fenced code block. */
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * The headings of `markdown`, in order, outside fenced code blocks: one pass over its lines.
 * (PostHog's Markdown writes every heading with `#`s; setext headings, underlined, are not read.)
 */
export function outlineOf(markdown: string): Heading[] {
  const found: Omit<Heading, "size">[] = [];
  let fence: string | undefined;
  let at = 0;
  while (at <= markdown.length) {
    const nl = markdown.indexOf("\n", at);
    const end = nl === -1 ? markdown.length : nl;
    const line = markdown.slice(at, end);
    const opener = FENCE.exec(line);
    if (fence !== undefined) {
      // A fence closes with the same character, at least as long, and nothing else on its line.
      if (opener && opener[1]?.[0] === fence[0] && (opener[1]?.length ?? 0) >= fence.length) {
        if (line.trim() === opener[1]) fence = undefined;
      }
    } else if (opener) {
      fence = opener[1];
    } else if (line.length <= 2_000) {
      const heading = atxHeading(line);
      if (heading) found.push({ ...heading, offset: at });
    }
    if (nl === -1) break;
    at = nl + 1;
  }
  return found.map((heading, i) => {
    let next = markdown.length;
    for (let j = i + 1; j < found.length; j++) {
      const later = found[j] as Omit<Heading, "size">;
      if (later.level <= heading.level) {
        next = later.offset;
        break;
      }
    }
    return { ...heading, size: next - heading.offset };
  });
}

/** The last heading (from `outline`, in order) at or before `offset`, by binary search. */
export function headingAt(outline: readonly Heading[], offset: number): Heading | undefined {
  let lo = 0;
  let hi = outline.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((outline[mid] as Heading).offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : outline[lo - 1];
}

export interface FindSpec {
  find: string;
  regex: boolean;
  /** Characters of context either side of a match, within its line. */
  context: number;
  maxMatches: number;
  /** Matches starting before this offset are counted, not shown (a pattern starts at its line). */
  from: number;
  /** How long a pattern may search (default REGEX_BUDGET_MS). */
  budgetMs?: number;
  /** The call's: once aborted, a pattern searches no further (nor starts, if it is waiting). */
  signal?: AbortSignal;
}

export interface Match {
  offset: number;
  length: number;
  /** The heading the match is under: its text and offset. */
  heading: { text: string; offset: number } | null;
  /** The match with up to `context` characters either side, not past its line. */
  passage: string;
  /** Where the match starts in `passage`. */
  at: number;
}

export interface Found {
  matches: Match[];
  /** Every match in the notebook (for a pattern: from `from` on, as far as it searched), counted up to `COUNT_CAP`. */
  total: number;
  /** More matched than were counted. */
  more: boolean;
  /** Matches before `from`. */
  before: number;
  /** Where the first match after those shown starts, if any. */
  next: number | null;
  /** Where a pattern's search stopped for time (null: it searched to the end). */
  stoppedAt: number | null;
  /** Lines a pattern did not search: longer than `longestLine`, or alone longer than its time. */
  skipped: number;
  /** The longest line a pattern searches (LINE_STEPS over its program's size); null for text. */
  longestLine: number | null;
}

/** Matches are counted up to here (the search stops after it). */
export const COUNT_CAP = 10_000;

type Re2 = typeof import("re2js").RE2JS;
let engine: Promise<Re2> | undefined;

/** The RE2 engine, loaded on first use. */
function re2(): Promise<Re2> {
  engine ??= import("re2js").then((module) => module.RE2JS);
  return engine;
}

/** Largest RE2 program a pattern may compile to: the most threads a line's match can run at once. */
export const MAX_PROGRAM = 100;
/**
 * Most steps (a line's length times the pattern's program size) one search of a line may take:
 * that search runs whole, other calls waiting, so a line costing more is not searched by the
 * pattern. A step takes 20-50 ns here (re2js, 2 cores), so a search holds the thread 5 ms at most:
 * a pattern of 5 steps (`hit`) searches lines of 20,000 characters, one of 100 lines of 1,000.
 */
export const LINE_STEPS = 100_000;
/** Time a pattern may search for in one call; the answer then says where it stopped. */
export const REGEX_BUDGET_MS = 2_000;
/** Time a pattern runs before letting other calls run. */
const SLICE_MS = 10;

interface Spans {
  spans: Array<[number, number]>;
  /** Where a pattern's search stopped for time (null: it searched to the end). */
  stoppedAt: number | null;
  /** Lines a pattern did not search: over its longest line, or alone longer than its time. */
  skipped: number;
  longestLine: number | null;
}

/** The last search in line of each account: searches charged to one key take turns. */
const lastInLine = new WeakMap<CpuAccount, Promise<void>>();

/**
 * Searches running at once, at most, of all keys: each runs a slice (SLICE_MS) a round of the
 * event loop, so seven keys' searches made rounds of 70 ms and another tenant's call 0.2–0.4 s.
 */
export const SEARCHES_AT_ONCE = 2;
const searches = new AtMost(SEARCHES_AT_ONCE);

/**
 * Waits for the searches charged to `account` that started before this one (first come, first
 * served), then for one of the SEARCHES_AT_ONCE places, and returns what ends this one's turn; no
 * account, no wait for the key's. So that a round of the event loop runs at most SEARCHES_AT_ONCE
 * slices of searches, whatever the keys and their searches.
 */
async function turn(account: CpuAccount | undefined): Promise<() => void> {
  const before = account ? lastInLine.get(account) : undefined;
  let done = () => {};
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  if (account) lastInLine.set(account, mine);
  await before;
  const giveBack = await searches.take();
  return () => {
    giveBack();
    if (account && lastInLine.get(account) === mine) lastInLine.delete(account);
    done();
  };
}

/**
 * Every match of `spec` in `text`, as [start, end) pairs, up to `cap`; empty matches are skipped.
 * Text is found in one linear pass over the whole text. A pattern is matched line by line from the line
 * holding `from` (as grep does: a match does not span lines), in slices of SLICE_MS between which
 * other calls run (within a line too), for at most REGEX_BUDGET_MS from its turn (one search of a
 * key at a time): one search of a line costs at most the line's length times its program's size,
 * kept within LINE_STEPS (longer lines are skipped, counted), a line's matches up to that times
 * their number (each may read on to its end), so the time is what bounds them.
 */
async function spans(text: string, spec: FindSpec, cap: number): Promise<Spans> {
  if (!spec.regex) {
    // A literal, as edits take it: one pass, linear in the text and the passage whatever they hold
    // (indexOf in a loop costs their product on a passage such as 500 `a`s, a `b`, 499 `a`s).
    const needle = spec.find;
    const out: Array<[number, number]> = [];
    for (const i of findApart(text, needle, undefined, cap)) out.push([i, i + needle.length]);
    return { spans: out, stoppedAt: null, skipped: 0, longestLine: null };
  }
  const RE2JS = await re2();
  let compiled: InstanceType<Re2>;
  try {
    compiled = RE2JS.compile(spec.find, RE2JS.MULTILINE);
  } catch (error) {
    throw toolError(
      "invalid_arguments",
      `find is not a regular expression this server reads (${error instanceof Error ? error.message : "syntax error"}). It takes RE2 syntax: no backreferences or lookaround; escape . * + ? ( ) [ ] { } | \\ ^ $ to match them as text, or leave regex out to find the text as written. Nothing was searched.`,
    );
  }
  const size = compiled.matcher("").programSize();
  if (size > MAX_PROGRAM) {
    throw toolError(
      "invalid_arguments",
      `find is a pattern too costly to run here (it compiles to ${size} steps; at most ${MAX_PROGRAM}): use fewer or smaller counted repetitions ({n}) and alternatives, or leave regex out to find the text as written. Nothing was searched.`,
    );
  }
  const longestLine = Math.floor(LINE_STEPS / size);
  const endTurn = await turn(currentAccount());
  try {
    return await search(text, spec, cap, compiled, longestLine);
  } finally {
    endTurn();
  }
}

/** A pattern's search, in its turn (see `spans`). */
async function search(
  text: string,
  spec: FindSpec,
  cap: number,
  compiled: InstanceType<Re2>,
  longestLine: number,
): Promise<Spans> {
  const out: Array<[number, number]> = [];
  const deadline = performance.now() + (spec.budgetMs ?? REGEX_BUDGET_MS);
  let started = performance.now();
  let slice = started + SLICE_MS;
  let skipped = 0;
  let at = text.lastIndexOf("\n", spec.from - 1) + 1;
  const first = at;
  const stopped = (stoppedAt: number | null): Spans => {
    chargeCpu(performance.now() - started);
    return { spans: out, stoppedAt, skipped, longestLine };
  };
  // Its call was given up while it waited: nothing searched.
  if (spec.signal?.aborted) return stopped(at);
  /**
   * Lets other calls run when the slice is over; false when the search is out of time (inside a
   * line, `since` it began: a line is given at least a slice) or its call was given up.
   */
  const onTime = async (since?: number): Promise<boolean> => {
    const now = performance.now();
    if (spec.signal?.aborted) return false;
    if (now >= deadline && (since === undefined || now - since >= SLICE_MS)) return false;
    if (now >= slice) {
      // The slice's time is the key's; the pause between slices is not.
      chargeCpu(now - started);
      await new Promise((resolve) => setImmediate(resolve));
      started = performance.now();
      slice = started + SLICE_MS;
    }
    return true;
  };
  while (out.length < cap) {
    const nl = text.indexOf("\n", at);
    const end = nl === -1 ? text.length : nl;
    if (end - at > longestLine) skipped += 1;
    else if (end > at) {
      // Within a line too the search yields and keeps to its time: each match of a pattern such
      // as `x*y|x` reads on to the line's end, so one line's matches cost its length squared (one
      // line of 20,000 `x`s held the server 10-14 s).
      const found = out.length;
      const began = performance.now();
      const matcher = compiled.matcher(text.slice(at, end));
      while (out.length < cap && matcher.find()) {
        const start = at + matcher.start();
        const stop = at + matcher.end();
        if (stop > start && start >= spec.from) out.push([start, stop]);
        if (await onTime(began)) continue;
        // Out of time inside the line: its matches are dropped, and the next call searches it
        // from its start; a line that alone takes longer than the whole time is left out, counted.
        out.length = found;
        if (at !== first || spec.signal?.aborted) return stopped(at);
        skipped += 1;
        return stopped(nl === -1 ? null : nl + 1);
      }
    }
    if (nl === -1) break;
    at = nl + 1;
    if (!(await onTime())) return stopped(at);
  }
  return stopped(null);
}

/** Does `code` (a UTF-16 unit) end or start a surrogate pair? (A cut must not split one.) */
const low = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** Where `spec` matches in `markdown`: the first `maxMatches` passages, and how many in all. */
export async function findPassages(
  markdown: string,
  spec: FindSpec,
  outline: readonly Heading[],
): Promise<Found> {
  const searched = await spans(markdown, spec, COUNT_CAP + 1);
  const all = searched.spans;
  let before = 0;
  while (before < all.length && (all[before] as [number, number])[0] < spec.from) before++;
  const shown = all.slice(before, before + spec.maxMatches);
  const following = all[before + spec.maxMatches];
  const matches = shown.map(([start, end]): Match => {
    const lineStart = markdown.lastIndexOf("\n", start - 1) + 1;
    const nl = markdown.indexOf("\n", end);
    const lineEnd = nl === -1 ? markdown.length : nl;
    let from = Math.max(lineStart, start - spec.context);
    let to = Math.min(lineEnd, end + spec.context);
    if (from > lineStart && low(markdown.charCodeAt(from))) from -= 1;
    if (to < lineEnd && low(markdown.charCodeAt(to))) to += 1;
    const heading = headingAt(outline, start);
    return {
      offset: start,
      length: end - start,
      heading: heading ? { text: heading.text, offset: heading.offset } : null,
      passage: markdown.slice(from, to),
      at: start - from,
    };
  });
  return {
    matches,
    total: Math.min(all.length, COUNT_CAP),
    more: all.length > COUNT_CAP,
    before,
    next: following ? following[0] : null,
    stoppedAt: searched.stoppedAt,
    skipped: searched.skipped,
    longestLine: searched.longestLine,
  };
}
