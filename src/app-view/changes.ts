/**
 * Which top-level blocks of a notebook a write changed: the blocks of the new version that the
 * version before it did not have (compared as JSON), after the unchanged blocks at both ends are
 * set aside. Linear in the document's size.
 */

export interface BlockChanges {
  /** Indexes of the new version's top-level blocks that are new or changed. */
  changed: number[];
  /** How many of the old version's blocks are gone (changed blocks aside). */
  removed: number;
}

export function blockChanges(before: readonly unknown[], after: readonly unknown[]): BlockChanges {
  const a = before.map((node) => JSON.stringify(node));
  const b = after.map((node) => JSON.stringify(node));
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  // In between, a block the old version also had (as many times) only moved: not highlighted.
  const left = new Map<string, number>();
  for (let i = start; i < endA; i++) left.set(a[i] as string, (left.get(a[i] as string) ?? 0) + 1);
  const changed: number[] = [];
  for (let i = start; i < endB; i++) {
    const json = b[i] as string;
    const count = left.get(json) ?? 0;
    if (count > 0) left.set(json, count - 1);
    else changed.push(i);
  }
  let unmatched = 0;
  for (const count of left.values()) unmatched += count;
  return { changed, removed: Math.max(0, unmatched - changed.length) };
}
