/**
 * What a write could not read as written, line by line, and how many of those a result lists: a
 * line of `[a](b)` links repeated over 4 MB made 698,366 notes (69 MB of result), so the first
 * `MAX_NOTES` are listed and one more note says how many were left out.
 */

export interface WriteNote {
  line: number;
  message: string;
}

/** Notes a write's result lists, at most (one more says how many were left out). */
export const MAX_NOTES = 100;

/** The notes a result lists: all, or the first `MAX_NOTES` and one saying how many more there are. */
export function listedNotes(notes: readonly WriteNote[]): WriteNote[] {
  if (notes.length <= MAX_NOTES) return [...notes];
  const rest = notes.length - MAX_NOTES;
  return [
    ...notes.slice(0, MAX_NOTES),
    {
      line: (notes[MAX_NOTES] as WriteNote).line,
      message: `and ${rest} more from here on, not listed: correct the ones above and write again to see them`,
    },
  ];
}
