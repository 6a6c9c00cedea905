/**
 * Inline Markdown as PostHog's notebook parser reads it (`parseInlineMarkdown` in
 * frontend/src/lib/components/MarkdownNotebook/markdown.ts): `**bold**`/`__bold__`, `*italic*`/
 * `_italic_`, `~~strike~~`, `<u>…</u>`, `` `code` ``, `[label](http…)`, `<ref id="…">…</ref>`,
 * `<mention id="…">…</mention>`, backslash escapes, and a newline as a hard break.
 *
 * The same results, in near-linear time on any input: PostHog searches forward for each closer
 * from scratch, which is quadratic when many openers have none. Here the positions of every
 * closer that could match are listed once per text (split by how many code-span backticks precede
 * them, which is what decides whether a closer lies inside a code span), and each search is a
 * binary search.
 */

import { ESCAPABLE, isAsciiAlphaNumeric, isWhitespace, sanitizeHref, unescapeCodeSpan } from "./escape.js";
import type { Props } from "./props.js";
import { parseProps } from "./props.js";

export type Mark =
  | { type: "bold" | "italic" | "strike" | "underline" | "code" }
  | { type: "link"; href: string }
  | { type: "ref"; id: string }
  /** `at`: where its tag is, so that two mentions side by side stay two. */
  | { type: "mention"; id: string; at?: number };

export type Inline =
  | { type: "text"; text: string; marks?: Mark[] }
  | { type: "hardBreak" }
  /** A component tag inside a line, where the parser was asked to accept it (this server's v1 grammar). */
  | { type: "component"; tag: string; props: Props; marks?: Mark[] };

export interface InlineIssue {
  /** Offset in the parsed text. */
  offset: number;
  message: string;
}

export interface InlineOptions {
  /** Component tags read inside a line (PostHog reads none: `<Tag …/>` mid-line is text). */
  inlineTags?: ReadonlySet<string>;
}

const MARK_ORDER: Record<Mark["type"], number> = {
  code: 0,
  bold: 1,
  italic: 2,
  underline: 3,
  strike: 4,
  link: 5,
  mention: 6,
  ref: 7,
};

/** Marks as PostHog normalises them: one of each type (the outer wins), in a fixed order. */
export function normalizeMarks(marks: readonly Mark[]): Mark[] {
  const seen = new Set<string>();
  const out: Mark[] = [];
  for (const mark of marks) {
    if (seen.has(mark.type)) continue;
    seen.add(mark.type);
    out.push(mark);
  }
  return out.sort((a, b) => MARK_ORDER[a.type] - MARK_ORDER[b.type]);
}

function markKey(mark: Mark): string {
  if (mark.type === "link") return `link:${mark.href}`;
  if (mark.type === "mention") return `mention:${mark.id}@${mark.at ?? ""}`;
  if (mark.type === "ref") return `ref:${mark.id}`;
  return mark.type;
}

function sameMarks(a: readonly Mark[], b: readonly Mark[]): boolean {
  return a.length === b.length && a.every((mark, i) => markKey(mark) === markKey(b[i] as Mark));
}

/** Empty text dropped, runs of hard breaks collapsed to one, neighbours with equal marks merged. */
const normalized = new WeakMap<readonly Mark[], Mark[]>();

function normalizedMarks(marks: readonly Mark[] | undefined): Mark[] {
  if (!marks || marks.length === 0) return [];
  let found = normalized.get(marks);
  if (!found) {
    found = normalizeMarks(marks);
    normalized.set(marks, found);
  }
  return found;
}

export function normalizeInline(nodes: readonly Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const node of nodes) {
    const previous = out[out.length - 1];
    if (node.type === "hardBreak") {
      if (previous?.type !== "hardBreak") out.push(node);
      continue;
    }
    if (node.type === "component") {
      out.push(node);
      continue;
    }
    if (!node.text) continue;
    const marks = normalizedMarks(node.marks);
    if (previous?.type === "text") {
      const before = previous.marks ?? [];
      if (before === marks || sameMarks(before, marks)) {
        previous.text += node.text;
        continue;
      }
    }
    out.push(marks.length > 0 ? { type: "text", text: node.text, marks } : { type: "text", text: node.text });
  }
  return out;
}

/** The first index of `sorted` whose value is ≥ `value`. */
export function lowerBound(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

interface Closer {
  token: string;
  /** Conditions on the position alone (emphasis closers: a non-space before, a word boundary after). */
  good?: (s: string, p: number) => boolean;
}

const afterNonSpace = (s: string, p: number) => p > 0 && !isWhitespace(s[p - 1]);

const CLOSERS = {
  "**": { token: "**", good: afterNonSpace },
  __: { token: "__", good: (s, p) => afterNonSpace(s, p) && !isAsciiAlphaNumeric(s[p + 2]) },
  "~~": { token: "~~", good: afterNonSpace },
  "*": { token: "*", good: afterNonSpace },
  _: { token: "_", good: (s, p) => afterNonSpace(s, p) && !isAsciiAlphaNumeric(s[p + 1]) },
  "</u>": { token: "</u>" },
  "</ref>": { token: "</ref>" },
  "</mention>": { token: "</mention>" },
  "](": { token: "](" },
} satisfies Record<string, Closer>;

type CloserKind = keyof typeof CLOSERS;

const EMPHASIS: {
  token: "**" | "__" | "~~" | "*" | "_";
  mark: "bold" | "italic" | "strike";
  boundary: boolean;
}[] = [
  { token: "**", mark: "bold", boundary: false },
  { token: "__", mark: "bold", boundary: true },
  { token: "~~", mark: "strike", boundary: false },
  { token: "*", mark: "italic", boundary: false },
  { token: "_", mark: "italic", boundary: true },
];

/** Deeper than this, what is left is text (PostHog nests a handful of levels; this bounds the work). */
const MAX_DEPTH = 32;
/** An inline component tag longer than this is text. */
const MAX_INLINE_TAG = 4096;

/** Everything the parser looks up in one text, built once (lazily, per kind). */
class Text {
  readonly s: string;
  readonly #escaped: Uint8Array;
  /** Unescaped backticks. */
  readonly ticks: Int32Array;
  readonly #closers = new Map<CloserKind, [Int32Array, Int32Array, Int32Array]>();
  /** Per kind, the last search that found nothing: a later one from further on finds nothing too. */
  readonly #misses = new Map<CloserKind, { lo: number; before: number; end: number }>();
  #special: Int32Array | undefined;
  #quotes: Map<string, Int32Array> = new Map();
  #badEscapes: Int32Array | undefined;
  /** Closing parentheses by the paren depth before them (unescaped parentheses counted). */
  #closingParens: Map<number, number[]> | undefined;
  #depthBefore: Int32Array | undefined;

  constructor(s: string) {
    this.s = s;
    this.#escaped = new Uint8Array(s.length);
    let run = 0;
    const ticks: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (run % 2 === 1) this.#escaped[i] = 1;
      const ch = s.charCodeAt(i);
      if (ch === 96 /* ` */ && run % 2 === 0) ticks.push(i);
      run = ch === 92 /* \ */ ? run + 1 : 0;
    }
    this.ticks = Int32Array.from(ticks);
  }

  escaped(i: number): boolean {
    return this.#escaped[i] === 1;
  }

  ticksBefore(p: number): number {
    return lowerBound(this.ticks, p);
  }

  /** The next unescaped backtick at or after `from`, before `end`; -1 if none. */
  nextTick(from: number, end: number): number {
    const k = lowerBound(this.ticks, from);
    const p = k < this.ticks.length ? (this.ticks[k] as number) : -1;
    return p >= 0 && p < end ? p : -1;
  }

  #closerLists(kind: CloserKind): [Int32Array, Int32Array, Int32Array] {
    let lists = this.#closers.get(kind);
    if (!lists) {
      const closer: Closer = CLOSERS[kind];
      const even: number[] = [];
      const odd: number[] = [];
      const all: number[] = [];
      for (let p = this.s.indexOf(closer.token); p !== -1; p = this.s.indexOf(closer.token, p + 1)) {
        if (this.escaped(p) || (closer.good && !closer.good(this.s, p))) continue;
        all.push(p);
        (this.ticksBefore(p) % 2 === 0 ? even : odd).push(p);
      }
      lists = [Int32Array.from(even), Int32Array.from(odd), Int32Array.from(all)];
      this.#closers.set(kind, lists);
    }
    return lists;
  }

  /**
   * PostHog's search for a closer: the first one at or after `lo` that lies outside the code spans
   * counted from `ref` (backticks pair up from there; an unpaired last one spans nothing), and
   * fits before `end`. -1 if none.
   */
  closer(kind: CloserKind, ref: number, lo: number, end: number): number {
    const [even, odd, all] = this.#closerLists(kind);
    const len = CLOSERS[kind].token.length;
    const before = this.ticksBefore(ref);
    const miss = this.#misses.get(kind);
    if (miss && miss.end === end && miss.before === before && lo >= miss.lo) return -1;
    const list = before % 2 === 0 ? even : odd;
    const fits = (p: number) => (p !== -1 && p + len <= end ? p : -1);
    const k = lowerBound(list, lo);
    let found = fits(k < list.length ? (list[k] as number) : -1);
    const inRange = this.ticksBefore(end) - before;
    if (inRange % 2 === 1) {
      const lastTick = this.ticks[before + inRange - 1] as number;
      const j = lowerBound(all, Math.max(lo, lastTick + 1));
      const tail = fits(j < all.length ? (all[j] as number) : -1);
      if (tail !== -1 && (found === -1 || tail < found)) found = tail;
    }
    if (found === -1) this.#misses.set(kind, { lo, before, end });
    return found;
  }

  /** Where plain text ends: the next position where any construct could begin. */
  nextSpecial(from: number, end: number, inlineTags: boolean): number {
    if (!this.#special) {
      // For each position, the next one at or after it where a construct could begin.
      const s = this.s;
      const next = new Int32Array(s.length + 1);
      next[s.length] = s.length;
      for (let i = s.length - 1; i >= 0; i--) {
        const c = s.charCodeAt(i);
        const special =
          c === 92 /* \ */ ||
          c === 42 /* * */ ||
          c === 95 /* _ */ ||
          c === 96 /* ` */ ||
          c === 91 /* [ */ ||
          c === 10 /* \n */ ||
          (c === 126 /* ~ */ && s.charCodeAt(i + 1) === 126) ||
          (c === 60 /* < */ &&
            (s.startsWith("<u>", i) ||
              s.startsWith("<ref", i) ||
              s.startsWith("<mention", i) ||
              (s.charCodeAt(i + 1) >= 65 && s.charCodeAt(i + 1) <= 90)));
        next[i] = special ? i : (next[i + 1] as number);
      }
      this.#special = next;
    }
    const s = this.s;
    const next = this.#special;
    for (let p = next[from] as number; p < end; p = next[p + 1] as number) {
      const c = s.charCodeAt(p);
      if (c === 126 && p + 2 > end) continue;
      if (c === 60) {
        const within = (token: string) => s.startsWith(token, p) && p + token.length <= end;
        if (!(within("<u>") || within("<ref") || within("<mention"))) {
          if (!inlineTags || p + 1 >= end || !/[A-Z]/.test(s[p + 1] as string)) continue;
        }
      }
      return p;
    }
    return end;
  }

  /** The next unescaped `quote` after `from` (before `end`), unless a backslash before a line end comes first. */
  closingQuote(quote: string, from: number, end: number): number {
    let quotes = this.#quotes.get(quote);
    if (!quotes) {
      const out: number[] = [];
      for (let p = this.s.indexOf(quote); p !== -1; p = this.s.indexOf(quote, p + 1)) {
        if (!this.escaped(p)) out.push(p);
      }
      quotes = Int32Array.from(out);
      this.#quotes.set(quote, quotes);
    }
    if (!this.#badEscapes) {
      const out: number[] = [];
      for (let p = this.s.indexOf("\\"); p !== -1; p = this.s.indexOf("\\", p + 1)) {
        if (!this.escaped(p) && (p + 1 >= this.s.length || LINE_TERMINATOR.test(this.s[p + 1] as string)))
          out.push(p);
      }
      this.#badEscapes = Int32Array.from(out);
    }
    const k = lowerBound(quotes, from);
    const close = k < quotes.length ? (quotes[k] as number) : -1;
    if (close === -1 || close >= end) return -1;
    const b = lowerBound(this.#badEscapes, from);
    const bad = b < this.#badEscapes.length ? (this.#badEscapes[b] as number) : -1;
    return bad !== -1 && bad < close ? -1 : close;
  }

  /**
   * A link's destination after `](` at `start`: read with escapes and balanced parentheses, up to
   * the `)` that closes it (the first at the depth it started at). Found by lookup, not by reading
   * on: a text of many unclosed links would otherwise be read to its end once per link.
   */
  href(start: number, end: number): { href: string; next: number } | null {
    if (!this.#depthBefore || !this.#closingParens) {
      const depth = new Int32Array(this.s.length + 1);
      const closing = new Map<number, number[]>();
      let d = 0;
      for (let i = 0; i < this.s.length; i++) {
        depth[i] = d;
        const ch = this.s[i];
        if (this.escaped(i)) continue;
        if (ch === "(") d++;
        else if (ch === ")") {
          const list = closing.get(d);
          if (list) list.push(i);
          else closing.set(d, [i]);
          d--;
        }
      }
      depth[this.s.length] = d;
      this.#depthBefore = depth;
      this.#closingParens = closing;
    }
    const list = this.#closingParens.get(this.#depthBefore[start] as number);
    if (!list) return null;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as number) < start) lo = mid + 1;
      else hi = mid;
    }
    const close = list[lo];
    if (close === undefined || close >= end) return null;
    let raw = "";
    for (let i = start; i < close; i++) {
      const ch = this.s[i] as string;
      if (ch === "\\" && i + 1 < close && ESCAPABLE.has(this.s[i + 1] as string)) {
        raw += this.s[i + 1];
        i++;
      } else raw += ch;
    }
    return { href: raw, next: close + 1 };
  }
}

const INLINE_TAG_OPEN = /^<(ref|mention)/;
const POSSIBLY_SYNTAX = /[\\*_`[\n~<]/;

/**
 * PostHog notebook Markdown inline text → inline nodes, with what could not be read as meant
 * (links to other than http(s)). `inlineTags` accepts these component tags inside a line.
 */
export function parseInline(
  text: string,
  options: InlineOptions = {},
): { nodes: Inline[]; issues: InlineIssue[] } {
  // Text with nothing that could begin a construct (most list items and short lines) is itself.
  if (!POSSIBLY_SYNTAX.test(text)) return { nodes: text ? [{ type: "text", text }] : [], issues: [] };
  const t = new Text(text);
  const issues: InlineIssue[] = [];
  const inlineTags = options.inlineTags;
  const s = text;

  function emphasisAt(i: number, from: number, end: number): (typeof EMPHASIS)[number] | undefined {
    for (const e of EMPHASIS) {
      if (!s.startsWith(e.token, i) || i + e.token.length > end) continue;
      if (e.token.length === 1 && s[i + 1] === e.token && i + 1 < end) continue;
      const first = i + e.token.length < end ? s[i + e.token.length] : undefined;
      if (first === undefined || isWhitespace(first)) continue;
      if (e.boundary && i > from && isAsciiAlphaNumeric(s[i - 1])) continue;
      return e;
    }
    return undefined;
  }

  function inlineTag(
    i: number,
    end: number,
  ): { tag: "ref" | "mention"; id: string; start: number; close: number } | null {
    const name = INLINE_TAG_OPEN.exec(s.slice(i, i + 8))?.[1] as "ref" | "mention" | undefined;
    if (!name) return null;
    let j = i + 1 + name.length;
    const spaces = j;
    while (j < end && isWhitespace(s[j])) j++;
    if (j === spaces || !s.startsWith("id=", j) || j + 3 >= end) return null;
    j += 3;
    const quote = s[j] as string;
    if (quote !== '"' && quote !== "'") return null;
    const close = t.closingQuote(quote, j + 1, end);
    if (close === -1) return null;
    const id = s.slice(j + 1, close).replace(/\\(.)/g, "$1");
    j = close + 1;
    while (j < end && isWhitespace(s[j])) j++;
    if (s[j] !== ">" || j >= end) return null;
    const start = j + 1;
    const closeAt = t.closer(name === "ref" ? "</ref>" : "</mention>", start, start, end);
    if (closeAt === -1 || !id) return null;
    return { tag: name, id, start, close: closeAt };
  }

  function component(i: number, end: number, marks: Mark[]): { node: Inline; next: number } | null {
    if (!inlineTags) return null;
    const name = /^<([A-Z][A-Za-z0-9]*)/.exec(s.slice(i, i + 64))?.[1];
    if (!name || !inlineTags.has(name)) return null;
    // The tag ends at the first `/>` outside quotes and braces, on the same line.
    let depth = 0;
    let quote: string | null = null;
    const limit = Math.min(end, i + MAX_INLINE_TAG);
    for (let j = i + 1 + name.length; j < limit; j++) {
      const ch = s[j];
      if (ch === "\n") return null;
      if (quote) {
        if (ch === quote && s[j - 1] !== "\\") quote = null;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === "{") depth++;
      else if (ch === "}") depth--;
      else if (depth === 0 && ch === "/" && s[j + 1] === ">") {
        const parsed = parseProps(s.slice(i + 1 + name.length, j));
        if (parsed.errors.length > 0) return null;
        const node: Inline = { type: "component", tag: name, props: parsed.props };
        if (marks.length > 0) node.marks = [...marks];
        return { node, next: j + 2 };
      }
    }
    return null;
  }

  function parse(from: number, end: number, marks: Mark[], depth: number): Inline[] {
    const nodes: Inline[] = [];
    // Text of this level is gathered as ranges of the source (contiguous ones extended in
    // place) and joined once before the next node: no rope of a million one-character pieces.
    let runFrom = -1;
    let runTo = -1;
    let parts: string[] | undefined;
    const text = (a: number, b: number) => {
      if (a >= b) return;
      if (a === runTo) {
        runTo = b;
        return;
      }
      if (runFrom !== -1) {
        parts ??= [];
        parts.push(s.slice(runFrom, runTo));
      }
      runFrom = a;
      runTo = b;
    };
    const flush = () => {
      if (runFrom === -1) return;
      let value = s.slice(runFrom, runTo);
      if (parts) {
        parts.push(value);
        value = parts.join("");
        parts = undefined;
      }
      runFrom = runTo = -1;
      nodes.push(marks.length > 0 ? { type: "text", text: value, marks } : { type: "text", text: value });
    };
    const add = (node: Inline) => {
      flush();
      nodes.push(node);
    };
    const addAll = (more: Inline[]) => {
      flush();
      for (const node of more) nodes.push(node);
    };
    if (depth > MAX_DEPTH) {
      text(from, end);
      flush();
      return nodes;
    }
    let codeMarks: Mark[] | undefined;
    let i = from;
    while (i < end) {
      const ch = s[i];
      if (ch === "\n") {
        add({ type: "hardBreak" });
        i++;
        continue;
      }
      if (ch === "\\") {
        const next = i + 1 < end ? s[i + 1] : undefined;
        if (next !== undefined && ESCAPABLE.has(next)) {
          text(i + 1, i + 2);
          i += 2;
        } else {
          text(i, i + 1);
          i++;
        }
        continue;
      }
      const emphasis = emphasisAt(i, from, end);
      if (emphasis) {
        const start = i + emphasis.token.length;
        const close = t.closer(emphasis.token, start, start + 1, end);
        if (close !== -1) {
          addAll(parse(start, close, [...marks, { type: emphasis.mark }], depth + 1));
          i = close + emphasis.token.length;
          continue;
        }
      }
      if (ch === "<") {
        if (s.startsWith("<u>", i) && i + 3 <= end) {
          const close = t.closer("</u>", i + 3, i + 3, end);
          if (close !== -1) {
            addAll(parse(i + 3, close, [...marks, { type: "underline" }], depth + 1));
            i = close + 4;
            continue;
          }
        }
        const tag = inlineTag(i, end);
        if (tag) {
          const mark: Mark =
            tag.tag === "mention" ? { type: "mention", id: tag.id, at: i } : { type: "ref", id: tag.id };
          addAll(parse(tag.start, tag.close, [...marks, mark], depth + 1));
          i = tag.close + tag.tag.length + 3;
          continue;
        }
        const atom = component(i, end, marks);
        if (atom) {
          add(atom.node);
          i = atom.next;
          continue;
        }
      }
      if (ch === "`") {
        const close = t.nextTick(i + 1, end);
        if (close !== -1) {
          const code = unescapeCodeSpan(s.slice(i + 1, close));
          codeMarks ??= [...marks, { type: "code" }];
          if (code) add({ type: "text", text: code, marks: codeMarks });
          i = close + 1;
          continue;
        }
      }
      if (ch === "[") {
        const labelEnd = t.closer("](", i + 1, i + 1, end);
        const link = labelEnd === -1 ? null : t.href(labelEnd + 2, end);
        if (link) {
          const href = sanitizeHref(link.href);
          if (!href && link.href.trim() !== "") {
            issues.push({
              offset: i,
              message: `a link to ${JSON.stringify(clip(link.href))}, which is not http(s)`,
            });
          }
          addAll(parse(i + 1, labelEnd, href ? [...marks, { type: "link", href }] : marks, depth + 1));
          i = link.next;
          continue;
        }
      }
      const next = t.nextSpecial(i + 1, end, inlineTags !== undefined);
      text(i, next);
      i = next;
    }
    flush();
    return nodes;
  }

  // Normalised once, at the end: PostHog normalises at every level, which comes to the same.
  return { nodes: normalizeInline(parse(0, s.length, [], 0)), issues };
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
