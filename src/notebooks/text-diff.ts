/**
 * What changed in a text, as an agent reads it: a compact line diff (jsdiff's unified hunks with a
 * few lines of context, without the file headers). The cost is bounded: past `MAX_EDIT` changed
 * lines jsdiff gives up, and the change is described by its size instead of line by line.
 */
import { structuredPatch } from "diff";
import { metered } from "../cpu-account.js";

/** Lines of unchanged text shown around each change. */
const CONTEXT = 2;
/** Most changed lines jsdiff looks for before giving up (bounds its work to about N × this). */
const MAX_EDIT = 400;
/** Most characters of a context line shown (it is there to find the place, not to be read). */
const MAX_CONTEXT_CHARS = 32;
/** Most characters of diff one change carries; the rest is counted, not shown. */
const MAX_DIFF_CHARS = 2_000;

function lineCount(text: string): number {
  return text === "" ? 0 : text.split("\n").length;
}

/** `before` → `after` as unified hunks (`@@ -3,2 +3,2 @@`, then ` `, `-` and `+` lines). */
export function lineDiff(before: string, after: string): string {
  // Its time (the texts' lines times MAX_EDIT at most, on this thread) is charged to the call's key.
  const patch = metered(() =>
    structuredPatch("", "", before, after, undefined, undefined, {
      context: CONTEXT,
      maxEditLength: MAX_EDIT,
    }),
  );
  if (!patch) {
    return `@@ rewritten: ${lineCount(before)} lines → ${lineCount(after)} lines (too many changes to list line by line) @@`;
  }
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) {
      if (line.startsWith("\\")) continue; // "\ No newline at end of file"
      const clip = line.startsWith(" ") && line.length > MAX_CONTEXT_CHARS + 1;
      lines.push(clip ? `${line.slice(0, MAX_CONTEXT_CHARS + 1).trimEnd()}…` : line);
    }
  }
  let text = "";
  for (const [index, line] of lines.entries()) {
    if (text.length + line.length + 1 > MAX_DIFF_CHARS) {
      return `${text}… ${lines.length - index} more diff lines not shown`;
    }
    text += `${line}\n`;
  }
  return text.trimEnd();
}
