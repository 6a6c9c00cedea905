/**
 * What the edit pane sends to notebook-view-save: the passage of the notebook's Markdown that the
 * person changed, in whole lines, widened a line at a time until it occurs once (notebooks-edit
 * replaces a passage that occurs exactly once), and what replaces it.
 */

/** How often `span` occurs in `text`, not overlapping (as notebooks-edit counts). */
export function count(text: string, span: string): number {
  let n = 0;
  for (let i = text.indexOf(span); i !== -1; i = text.indexOf(span, i + span.length)) n++;
  return n;
}

/** The passage to replace and its replacement, or null when nothing changed. */
export function changedPassage(before: string, after: string): { old: string; new: string } | null {
  if (before === after) return null;
  let prefix = 0;
  const shortest = Math.min(before.length, after.length);
  while (prefix < shortest && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < shortest - prefix &&
    before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
  ) {
    suffix++;
  }
  let from = before.lastIndexOf("\n", prefix - 1) + 1;
  let to = before.indexOf("\n", before.length - suffix);
  if (to === -1) to = before.length;
  // Whole lines, then a line more each side while the passage is empty or occurs more than once.
  while (from > 0 || to < before.length) {
    const passage = before.slice(from, to);
    if (passage.trim() !== "" && count(before, passage) === 1) break;
    if (from > 0) from = from === 1 ? 0 : before.lastIndexOf("\n", from - 2) + 1;
    if (to < before.length) {
      const next = before.indexOf("\n", to + 1);
      to = next === -1 ? before.length : next;
    }
  }
  const tail = before.length - to;
  return { old: before.slice(from, to), new: after.slice(from, after.length - tail) };
}
