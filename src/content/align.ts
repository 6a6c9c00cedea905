/**
 * Which blocks of a document come back unchanged in new Markdown: each old block is a run of
 * pieces (Markdown between blank lines), and the blocks kept are the heaviest chain of blocks found
 * whole in the new pieces, in their old order and without overlapping (a longest common
 * subsequence, counted in pieces, where a block counts only whole). Among chains as heavy, the
 * one whose blocks moved least wins, so that of two identical blocks the one that stayed in place
 * is the one kept.
 */

import { lowerBound } from "./markdown/inline.js";

/** At most this many places holding a block whole are candidates for it (the nearest to where it was). */
const MAX_CANDIDATES = 64;
/**
 * At most this many places are looked at for one block, found whole or not: a block whose first
 * piece recurs everywhere without the rest (hostile, or a long run of equal lines) costs a bounded
 * look, not one at every place its first piece is.
 */
export const MAX_TRIES = 4 * MAX_CANDIDATES;
/** A piece outweighs any total displacement (chains compare by pieces, then by how little moved). */
const PIECE = 2 ** 32;

/** Prefix maxima over positions, with the chain each maximum ends. */
class PrefixMax {
  readonly #value: Float64Array;
  readonly #at: Int32Array;

  constructor(size: number) {
    this.#value = new Float64Array(size + 1);
    this.#at = new Int32Array(size + 1).fill(-1);
  }

  /** The best value (and its candidate) among ends ≤ `end`. */
  query(end: number): [number, number] {
    let best = 0;
    let at = -1;
    for (let i = end + 1; i > 0; i -= i & -i) {
      if ((this.#value[i] as number) > best) {
        best = this.#value[i] as number;
        at = this.#at[i] as number;
      }
    }
    return [best, at];
  }

  update(end: number, value: number, candidate: number): void {
    for (let i = end + 1; i < this.#value.length; i += i & -i) {
      if (value > (this.#value[i] as number)) {
        this.#value[i] = value;
        this.#at[i] = candidate;
      }
    }
  }
}

/**
 * For each old block (its pieces, in order), where it starts in `newPieces` when it is kept, or -1.
 * Blocks without pieces are never kept here (the caller places them).
 */
export function alignBlocks(
  blocks: readonly (readonly string[])[],
  newPieces: readonly string[],
): Int32Array {
  const where = new Map<string, number[]>();
  newPieces.forEach((piece, i) => {
    const list = where.get(piece);
    if (list) list.push(i);
    else where.set(piece, [i]);
  });
  const starts: number[] = [];
  const blockOf: number[] = [];
  const value: number[] = [];
  const previous: number[] = [];
  const best = new PrefixMax(newPieces.length);
  let expected = 0;
  blocks.forEach((pieces, b) => {
    const positions = pieces.length > 0 ? where.get(pieces[0] as string) : undefined;
    const at = expected;
    expected += pieces.length;
    if (!positions) return;
    // The places nearest to where the block was, that hold the whole block.
    let lo = lowerBound(positions, at);
    let hi = lo;
    const found: number[] = [];
    for (
      let tries = 0;
      found.length < MAX_CANDIDATES && tries < MAX_TRIES && (lo > 0 || hi < positions.length);
      tries++
    ) {
      const takeHigh =
        hi < positions.length &&
        (lo === 0 || (positions[hi] as number) - at <= at - (positions[lo - 1] as number));
      const s = takeHigh ? (positions[hi++] as number) : (positions[--lo] as number);
      if (pieces.every((piece, k) => newPieces[s + k] === piece)) found.push(s);
    }
    const made: [number, number, number][] = [];
    for (const s of found) {
      const [before, from] = best.query(s - 1);
      made.push([s, before + pieces.length * PIECE - Math.abs(s - at), from]);
    }
    for (const [s, total, from] of made) {
      const id = starts.length;
      starts.push(s);
      blockOf.push(b);
      value.push(total);
      previous.push(from);
      best.update(s + pieces.length - 1, total, id);
    }
  });
  const kept = new Int32Array(blocks.length).fill(-1);
  for (let id = best.query(newPieces.length - 1)[1]; id !== -1; id = previous[id] as number) {
    kept[blockOf[id] as number] = starts[id] as number;
  }
  return kept;
}
