/**
 * Characters people cannot see: invisible and control characters, the usual carriers of hidden
 * instructions in text an agent reads.
 */

// C0 controls except tab and newline, DEL and C1 controls, soft hyphen, Mongolian vowel separator,
// zero-width and bidirectional controls, word joiners and invisible operators, the BOM, interlinear
// annotations, tag characters and the variation selectors supplement (both used to smuggle text).
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDC7F]|\uDB40[\uDD00-\uDDEF]/g;

/** Anything `stripInvisible` would change: one scan tells, and most text has none. */
const UNCLEAN = new RegExp(`\\r|${INVISIBLE.source}`);

/** Removes invisible and control characters; keeps tabs, newlines and every visible character. */
export function stripInvisible(text: string): string {
  if (!UNCLEAN.test(text)) return text;
  return text.replace(/\r\n?/g, "\n").replace(INVISIBLE, "");
}
