/**
 * Characters people cannot see, in text an agent reads. Those that can only hide instructions
 * (control characters, bidirectional overrides and isolates, tag characters, invisible fillers and
 * operators, runs of variation selectors, and the like) are shown as `⟦U+202E⟧`, a form this server
 * turns back into the same character when the text is written back, so nothing is lost. Those
 * that are writing pass as they are: a joiner or non-joiner inside an emoji sequence or a word, a
 * variation selector after its base character, a soft hyphen, tabs and newlines.
 */

/** Always shown as a marker. */
const HIDDEN = new RegExp(
  [
    "[\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]", // controls, but tab and newline
    "[\\u034F\\u061C\\u115F\\u1160\\u17B4\\u17B5\\u180B-\\u180F\\u2800\\u3164\\uFFA0\\uFEFF\\uFFF9-\\uFFFC]",
    "[\\u200B\\u200E\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F]",
    "[\\u{1D173}-\\u{1D17A}]", // musical symbol begin/end beam, tie, slur, phrase
    "[\\u{1BCA0}-\\u{1BCA3}]", // shorthand format controls
    "[\\u{E0000}-\\u{E007F}]", // tag characters
  ].join("|"),
  "u",
);

const JOINER = /[\u200C\u200D]/u;
const SELECTOR = /[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u;
const SPACE = /\s/u;

const MARKER = /⟦U\+([0-9A-F]{4,6})⟧/g;
const MARKER_AT = /^U\+[0-9A-F]{4,6}⟧/;
function marker(codePoint: number): string {
  return `⟦U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}⟧`;
}

/** A character one sees (or a selector shaping one): what a joiner may join. */
function isVisible(ch: string | undefined): boolean {
  return ch !== undefined && !SPACE.test(ch) && !HIDDEN.test(ch) && !JOINER.test(ch);
}

/** A character a variation selector may follow. */
function isBase(ch: string | undefined): boolean {
  return isVisible(ch) && !SELECTOR.test(ch as string);
}

/**
 * The text with every character that can only hide something shown as `⟦U+XXXX⟧`. A `⟦` that
 * already reads as a marker is shown as one itself (`⟦U+27E6⟧`), so that `restoreInvisible` gives
 * back exactly the text it was given.
 */
export function revealInvisible(text: string): string {
  if (!CANDIDATE.test(text)) return text;
  return text.replace(ANY, (ch: string, offset: number) => {
    const code = ch.codePointAt(0) as number;
    if (ch === "⟦") return MARKER_AT.test(text.slice(offset + 1, offset + 10)) ? marker(code) : ch;
    if (HIDDEN.test(ch)) return marker(code);
    const before = charBefore(text, offset);
    if (JOINER.test(ch)) {
      // Writing when it joins two characters of a word or an emoji sequence.
      return isVisible(before) && isVisible(charAt(text, offset + ch.length)) ? ch : marker(code);
    }
    // A variation selector is writing right after its base; a run of them encodes something else.
    return isBase(before) ? ch : marker(code);
  });
}

/** Every character `revealInvisible` decides about (and, without `g`, whether a text has any). */
const ANY = new RegExp(`${HIDDEN.source}|${JOINER.source}|${SELECTOR.source}|⟦`, "gu");
const CANDIDATE = new RegExp(ANY.source, "u");

function charAt(text: string, offset: number): string | undefined {
  const code = text.codePointAt(offset);
  return code === undefined ? undefined : String.fromCodePoint(code);
}

function charBefore(text: string, offset: number): string | undefined {
  if (offset <= 0) return undefined;
  const low = text.charCodeAt(offset - 1);
  const start = low >= 0xdc00 && low <= 0xdfff && offset >= 2 ? offset - 2 : offset - 1;
  return charAt(text, start);
}

/** Markers written back as the characters they stand for. */
export function restoreInvisible(text: string): string {
  if (!text.includes("⟦")) return text;
  return text.replace(MARKER, (match, hex: string) => {
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return match;
    return String.fromCodePoint(code);
  });
}
