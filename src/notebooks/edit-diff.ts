/**
 * What an edit changed, as an agent reads it: the changed lines of the Markdown with a line of
 * context either side, in unified-diff hunks. The edit knows where it replaced what, so no diff
 * algorithm is run: each replacement's lines are shown, neighbouring ones in one hunk. Long lines
 * are shown around what changed in them, so that a word changed in a long paragraph costs a few
 * dozen characters, not the paragraph twice.
 */

export interface Replacement {
  /** Where the replaced text starts and ends in the old Markdown. */
  start: number;
  end: number;
  /** What replaces it. */
  text: string;
}

/** Characters of a line shown at most; longer ones are cut around their change. */
const LINE_CHARS = 240;
/** Characters of a context line shown at most. */
const CONTEXT_CHARS = 120;

/** Offsets where each line of `text` starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** The index of the line holding `offset` (binary search in `starts`). */
function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((starts[mid] as number) <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function clip(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max)}… (${line.length - max} more characters)`;
}

/** An old and a new line shown around where they differ, each at most about LINE_CHARS. */
function clipPair(before: string, after: string): [string, string] {
  if (before.length <= LINE_CHARS && after.length <= LINE_CHARS) return [before, after];
  let head = 0;
  const most = Math.min(before.length, after.length);
  while (head < most && before.charCodeAt(head) === after.charCodeAt(head)) head++;
  let tail = 0;
  while (
    tail < most - head &&
    before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)
  ) {
    tail++;
  }
  const margin = 60;
  const cut = (line: string) => {
    const from = Math.max(0, head - margin);
    const to = Math.min(line.length, line.length - tail + margin);
    const middle = line.slice(from, to);
    const shown = middle.length > LINE_CHARS * 4 ? `${middle.slice(0, LINE_CHARS * 4)}…` : middle;
    return `${from > 0 ? `…(${from} characters) ` : ""}${shown}${to < line.length ? ` …(${line.length - to} characters)` : ""}`;
  };
  return [cut(before), cut(after)];
}

/** `text` with each of `replacements` (sorted, not overlapping) made. */
export function applyReplacements(text: string, replacements: readonly Replacement[]): string {
  let out = "";
  let last = 0;
  for (const r of replacements) {
    out += text.slice(last, r.start) + r.text;
    last = r.end;
  }
  return out + text.slice(last);
}

/** Hunks of `replacements` (sorted, not overlapping) applied to `old`, up to about `maxChars`. */
export function editDiff(
  old: string,
  replacements: readonly Replacement[],
  maxChars: number,
): { diff: string; hunks: number; shown: number } {
  const starts = lineStarts(old);
  const lineEnd = (line: number) =>
    line + 1 < starts.length ? (starts[line + 1] as number) - 1 : old.length;
  // Group replacements whose lines touch into hunks.
  const groups: { first: number; last: number; items: Replacement[] }[] = [];
  for (const r of replacements) {
    const first = lineOf(starts, r.start);
    const last = lineOf(starts, Math.max(r.start, r.end - 1));
    const group = groups[groups.length - 1];
    if (group && first <= group.last + 2) {
      group.last = Math.max(group.last, last);
      group.items.push(r);
    } else {
      groups.push({ first, last, items: [r] });
    }
  }
  const out: string[] = [];
  let size = 0;
  let shift = 0; // lines the new text has more than the old, before the current hunk
  let shown = 0;
  for (const group of groups) {
    const from = starts[group.first] as number;
    const to = lineEnd(group.last);
    let replaced = "";
    let at = from;
    for (const r of group.items) {
      replaced += old.slice(at, r.start) + r.text;
      at = r.end;
    }
    replaced += old.slice(at, to);
    const oldLines = old.slice(from, to).split("\n");
    const newLines = replaced.split("\n");
    // Lines left as they were at either end of the hunk are context, not changes.
    let head = 0;
    while (head < oldLines.length && head < newLines.length && oldLines[head] === newLines[head]) head++;
    let tail = 0;
    while (
      tail < oldLines.length - head &&
      tail < newLines.length - head &&
      oldLines[oldLines.length - 1 - tail] === newLines[newLines.length - 1 - tail]
    ) {
      tail++;
    }
    const removed = oldLines.slice(head, oldLines.length - tail);
    const added = newLines.slice(head, newLines.length - tail);
    const firstChanged = group.first + head;
    const before =
      head > 0
        ? oldLines[head - 1]
        : firstChanged > 0
          ? old.slice(starts[firstChanged - 1], lineEnd(firstChanged - 1))
          : undefined;
    const lastChanged = group.first + oldLines.length - tail - 1;
    const after =
      tail > 0
        ? oldLines[oldLines.length - tail]
        : lastChanged + 1 < starts.length
          ? old.slice(starts[lastChanged + 1], lineEnd(lastChanged + 1))
          : undefined;
    const contextBefore = before === undefined ? 0 : 1;
    const contextAfter = after === undefined ? 0 : 1;
    const oldStart = firstChanged + 1 - contextBefore;
    const lines = [
      `@@ -${oldStart},${removed.length + contextBefore + contextAfter} +${oldStart + shift},${added.length + contextBefore + contextAfter} @@`,
    ];
    if (before !== undefined) lines.push(` ${clip(before, CONTEXT_CHARS)}`);
    if (removed.length === 1 && added.length === 1) {
      const [a, b] = clipPair(removed[0] as string, added[0] as string);
      lines.push(`-${a}`, `+${b}`);
    } else {
      for (const line of removed) lines.push(`-${clip(line, LINE_CHARS)}`);
      for (const line of added) lines.push(`+${clip(line, LINE_CHARS)}`);
    }
    if (after !== undefined) lines.push(` ${clip(after, CONTEXT_CHARS)}`);
    shift += added.length - removed.length;
    const hunk = lines.join("\n");
    if (shown > 0 && size + hunk.length > maxChars) break;
    out.push(hunk);
    size += hunk.length + 1;
    shown += 1;
  }
  return { diff: out.join("\n"), hunks: groups.length, shown };
}
