/**
 * Generated PostHog notebook documents (fast-check), from the whole vocabulary PostHog's editor
 * stores: every block kind with the attributes TipTap writes, every PostHog component with
 * realistic attributes, inline atoms at the start, middle and end of every inline container,
 * every mark and mark combination, and text full of Markdown's own characters and of characters
 * people cannot see.
 *
 * Each text run holds one marker word `q<N>z`, unique in its document once `numbered` has run,
 * so that a property can edit exactly one word and know where it is.
 */
import fc from "fast-check";

export type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Text.

/** Pieces text is made of: words, Markdown's own characters, and what people cannot see. */
const PIECES = [
  "alpha",
  "beta",
  "funnel",
  "conversion",
  "7",
  " ",
  " ",
  "  ",
  "*",
  "**",
  "_",
  "__",
  "snake_case",
  "`",
  "``",
  "[",
  "]",
  "[x]",
  "(",
  ")",
  "<",
  ">",
  "<u>",
  "</u>",
  "<b>",
  '<Recording id="x" />',
  "<ReplayTimestamp />",
  "#",
  "# ",
  "|",
  "\\",
  "\\*",
  "~",
  "~~",
  "!",
  "1.",
  "1. ",
  "2)",
  "- ",
  "-",
  "+ ",
  "> ",
  "---",
  "•",
  "&amp;",
  "http://x.io",
  "👩‍💻", // emoji with a zero-width joiner
  "👍🏽",
  "e\u0301", // a combining accent
  "\u00AD", // soft hyphen
  "\u00A0", // no-break space
  "\u200B", // zero-width space
  "\u202E", // right-to-left override
  "\t",
  "é",
  "日本",
];

const piece = fc.constantFrom(...PIECES);

/** A run of text holding the marker `§` (made unique later), never empty. */
const runText = fc
  .tuple(fc.array(piece, { maxLength: 3 }), fc.array(piece, { maxLength: 3 }))
  .map(([before, after]) => `${before.join("")}§${after.join("")}`);

// ---------------------------------------------------------------------------------------------
// Marks, in the order PostHog's schema ranks them.

const linkMark = fc
  .record({
    href: fc.constantFrom("https://posthog.com/docs", "https://example.com/a?b=1&c=(2)", "http://x.io/p_q"),
    target: fc.constantFrom("_blank", null),
  })
  .map((attrs) => ({ type: "link", attrs: { ...attrs, rel: "noopener noreferrer nofollow", class: null } }));
const commentMark = fc
  .constantFrom("c-1", "c-2", "0f1e2d3c")
  .map((id) => ({ type: "comment", attrs: { id } }));

/** Marks a text run may carry (code excludes every other mark, as in TipTap). */
const marks: fc.Arbitrary<Json[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Json[]>([]) },
  { weight: 1, arbitrary: fc.constant<Json[]>([{ type: "code" }]) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        bold: fc.boolean(),
        italic: fc.boolean(),
        strike: fc.boolean(),
        underline: fc.boolean(),
        link: fc.option(linkMark, { nil: undefined }),
        comment: fc.option(commentMark, { nil: undefined }),
      })
      .map((m) => {
        const out: Json[] = [];
        if (m.bold) out.push({ type: "bold" });
        if (m.italic) out.push({ type: "italic" });
        if (m.strike) out.push({ type: "strike" });
        if (m.underline) out.push({ type: "underline" });
        if (m.link) out.push(m.link);
        if (m.comment) out.push(m.comment);
        return out;
      }),
  },
);

const textNode = fc
  .tuple(runText, marks)
  .map(([text, m]) => (m.length > 0 ? { type: "text", text, marks: m } : { type: "text", text }));

// ---------------------------------------------------------------------------------------------
// Inline atoms.

const uuid = fc.uuid();
const recordingId = fc.constantFrom(
  "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  "01940000-aaaa-7bbb-8ccc-ddddeeeeffff",
);

const replayTimestamp = fc
  .record({
    playbackTime: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 4_000_000 })),
    sessionRecordingId: recordingId,
    sourceNodeId: uuid,
  })
  .map((attrs) => ({ type: "ph-replay-timestamp", attrs }));
const backlink = fc
  .record({
    href: fc.constantFrom("/insights/abc123", "/feature_flags/12", "/replay/0193a1b2"),
    type: fc.constantFrom("insight", "feature_flag", "recording"),
    title: fc.constantFrom("Weekly signups", "Flag: new-checkout", "A [title] with *stars*"),
  })
  .map((attrs) => ({ type: "ph-backlink", attrs }));
const mention = fc
  .record({ id: fc.integer({ min: 1, max: 99_999 }) })
  .map((attrs) => ({ type: "ph-mention", attrs }));

const atom = fc.oneof(replayTimestamp, backlink, mention);

/**
 * Inline content: text runs and atoms, atoms also first and last, hard breaks between. Adjacent
 * text runs with equal marks are merged, as ProseMirror stores them.
 */
function inlineContent(options: { breaks: boolean; atoms: boolean }): fc.Arbitrary<Json[]> {
  const item = options.atoms
    ? fc.oneof({ weight: 5, arbitrary: textNode }, { weight: 2, arbitrary: atom })
    : textNode;
  const withBreak = options.breaks
    ? fc.oneof({ weight: 6, arbitrary: item }, { weight: 1, arbitrary: fc.constant({ type: "hardBreak" }) })
    : item;
  return fc.array(withBreak, { minLength: 1, maxLength: 5 }).map(normalizeInline);
}

/** Inline content with hard breaks between, never empty (a list item, cell or heading with text). */
const lineContent = inlineContent({ breaks: true, atoms: true }).filter((content) => content.length > 0);

function sameMarks(a: Json, b: Json): boolean {
  return JSON.stringify(a.marks ?? []) === JSON.stringify(b.marks ?? []);
}

/** ProseMirror's own normal form: neighbouring text with equal marks is one node; no doubled breaks at the ends. */
function normalizeInline(nodes: Json[]): Json[] {
  const out: Json[] = [];
  for (const node of nodes) {
    const last = out[out.length - 1];
    if (last && last.type === "text" && node.type === "text" && sameMarks(last, node)) {
      out[out.length - 1] = { ...last, text: `${last.text as string}${node.text as string}` };
    } else out.push(node);
  }
  // A break at either end of a block reads back as nothing: TipTap keeps it, but Markdown has
  // no way to show it, so generated documents hold breaks only between other content.
  while (out[0]?.type === "hardBreak") out.shift();
  while (out[out.length - 1]?.type === "hardBreak") out.pop();
  return out.filter((node, i) => !(node.type === "hardBreak" && out[i - 1]?.type === "hardBreak"));
}

// ---------------------------------------------------------------------------------------------
// Blocks.

export const paragraphArbitrary = inlineContent({ breaks: true, atoms: true }).map((content) => ({
  type: "paragraph",
  content,
}));
const headingOf = (level: fc.Arbitrary<number>) =>
  fc.tuple(level, lineContent).map(([lvl, content]) => ({ type: "heading", attrs: { level: lvl }, content }));
const heading = headingOf(fc.integer({ min: 1, max: 6 }));

const codeBlock = fc
  .record({
    language: fc.constantFrom(null, "sql", "python", "ts"),
    text: fc.array(fc.constantFrom("select 1", "```", "``", "a`b", "# not a heading", "\n", "§", "  x = 1"), {
      minLength: 1,
      maxLength: 4,
    }),
  })
  .map(({ language, text }) => ({
    type: "codeBlock",
    attrs: { language },
    content: [{ type: "text", text: `${text.join("")}§` }],
  }));

const horizontalRule = fc.constant({ type: "horizontalRule" });

/** List items: one paragraph each, and sometimes a nested list (of any kind). */
function list(depth: number): fc.Arbitrary<Json> {
  const nested: fc.Arbitrary<Json | null> =
    depth >= 2
      ? fc.constant(null)
      : fc.option(
          fc.constant(null).chain(() => list(depth + 1)),
          { freq: 4 },
        );
  const item = (task: boolean) =>
    fc.tuple(lineContent, nested, fc.boolean()).map(([content, sub, checked]) => {
      const children: Json[] = [{ type: "paragraph", content }];
      if (sub) children.push(sub);
      return task
        ? { type: "taskItem", attrs: { checked }, content: children }
        : { type: "listItem", content: children };
    });
  return fc.oneof(
    fc.array(item(false), { minLength: 1, maxLength: 3 }).map((content) => ({ type: "bulletList", content })),
    fc
      .tuple(
        fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 30 })),
        fc.array(item(false), { minLength: 1, maxLength: 3 }),
      )
      .map(([start, content]) => ({ type: "orderedList", attrs: { start, type: null }, content })),
    fc.array(item(true), { minLength: 1, maxLength: 3 }).map((content) => ({ type: "taskList", content })),
  );
}

const blockquote = fc
  .array(inlineContent({ breaks: false, atoms: true }), { minLength: 1, maxLength: 2 })
  .map((paras) => ({
    type: "blockquote",
    content: paras.map((content) => ({ type: "paragraph", content })),
  }));

const cellAttrs = fc.record({
  colspan: fc.constantFrom(1, 1, 1, 2),
  rowspan: fc.constantFrom(1, 1, 1, 2),
  colwidth: fc.constantFrom(null, null, [120], [80, 40]),
});

/** A table, with or without a header row, every row as wide as the first. */
const table = fc
  .record({
    columns: fc.integer({ min: 1, max: 3 }),
    rows: fc.integer({ min: 1, max: 3 }),
    header: fc.boolean(),
    cells: fc.array(fc.tuple(lineContent, cellAttrs), {
      minLength: 9,
      maxLength: 9,
    }),
  })
  .map(({ columns, rows, header, cells }) => ({
    type: "table",
    content: Array.from({ length: rows }, (_, r) => ({
      type: "tableRow",
      content: Array.from({ length: columns }, (_, c) => {
        const [content, attrs] = cells[(r * 3 + c) % 9] as [Json[], Json];
        return {
          type: header && r === 0 ? "tableHeader" : "tableCell",
          attrs,
          content: [{ type: "paragraph", content }],
        };
      }),
    })),
  }));

// ---------------------------------------------------------------------------------------------
// PostHog's components (block atoms), with the attributes its editor stores.

const common = fc.record({
  nodeId: uuid,
  height: fc.constantFrom(null, 400, "auto"),
  title: fc.constantFrom(null, "", "Signups by week", 'A "quoted" <title> & more', "§"),
  __init: fc.constantFrom(null),
  children: fc.constantFrom(null, []),
});

function component(type: string, own: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc.tuple(common, own).map(([base, attrs]) => ({ type, attrs: { ...base, ...attrs } }));
}

const hogql = fc.constantFrom(
  "select 1",
  "select event, count() from events group by event",
  "select '}' as x",
);
const components = fc.oneof(
  component(
    "ph-query",
    fc.oneof(
      fc
        .constantFrom("abc123", "XyZ789")
        .map((shortId) => ({ query: { kind: "SavedInsightNode", shortId } })),
      hogql.map((query) => ({
        query: { kind: "DataTableNode", source: { kind: "HogQLQuery", query } },
      })),
      // Older notebooks hold the query as a JSON string.
      hogql.map((query) => ({
        query: JSON.stringify({ kind: "DataVisualizationNode", source: { kind: "HogQLQuery", query } }),
      })),
    ),
  ),
  component(
    "ph-recording",
    fc.record(
      { id: recordingId, noInspector: fc.boolean(), timestampMs: fc.integer({ min: 0, max: 9_000_000 }) },
      { requiredKeys: ["id", "noInspector"] },
    ),
  ),
  component(
    "ph-recording-playlist",
    fc.record({
      universalFilters: fc.constant({ duration: [], filter_group: { type: "AND", values: [] } }),
      pinned: fc.constant([]),
    }),
  ),
  component("ph-feature-flag", fc.record({ id: fc.integer({ min: 1, max: 9999 }) })),
  component("ph-feature-flag-code-example", fc.record({ id: fc.integer({ min: 1, max: 9999 }) })),
  component("ph-experiment", fc.record({ id: fc.integer({ min: 1, max: 9999 }) })),
  component("ph-early-access-feature", fc.record({ id: uuid })),
  component("ph-survey", fc.record({ id: uuid })),
  component("ph-cohort", fc.record({ id: fc.integer({ min: 1, max: 9999 }) })),
  component(
    "ph-person",
    fc.record({
      id: uuid,
      distinctId: fc.constantFrom("user@example.com", "d-1"),
      view: fc.constantFrom("properties", null),
    }),
  ),
  component(
    "ph-group",
    fc.record({ id: fc.constantFrom("acme", "g-2"), groupTypeIndex: fc.integer({ min: 0, max: 4 }) }),
  ),
  component(
    "ph-image",
    fc.record({
      src: fc.constantFrom("https://posthog.com/a.png", "https://cdn.example.com/x(1).png"),
      file: fc.constant(null),
    }),
  ),
  component(
    "ph-embed",
    fc.record({ src: fc.constantFrom("https://example.com/embed"), width: fc.constant(null) }),
  ),
  component("ph-latex", fc.record({ content: fc.constantFrom("e^{i\\pi}+1=0", "\\frac{a}{b}") })),
  component(
    "ph-python",
    fc.record({ code: fc.constantFrom("print(1)", "x = {'a': 1}"), returnVariable: fc.constant("x") }),
  ),
  component("ph-hogql-sql", fc.record({ code: hogql })),
  component("ph-map", fc.record({ id: fc.constantFrom("m1") })),
  component("ph-llm-trace", fc.record({ id: fc.constantFrom("trace-1") })),
  // Types this server has no tag for: written <UnknownNode nodeType=…/>.
  component("ph-error-tracking-issue", fc.record({ id: uuid })),
  component("ph-dashboard-widget", fc.record({ dashboardId: fc.integer({ min: 1, max: 99 }) })),
);

// ---------------------------------------------------------------------------------------------
// Documents.

export const blockArbitrary: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: paragraphArbitrary },
  { weight: 2, arbitrary: heading },
  { weight: 3, arbitrary: fc.constant(0).chain(() => list(0)) },
  { weight: 1, arbitrary: blockquote },
  { weight: 1, arbitrary: codeBlock },
  { weight: 1, arbitrary: horizontalRule },
  { weight: 2, arbitrary: table },
  { weight: 3, arbitrary: components },
);

/** A v1 document: a level-1 heading (PostHog's title), then blocks. */
export const documentArbitrary: fc.Arbitrary<Json> = fc
  .tuple(headingOf(fc.constant(1)), fc.array(blockArbitrary, { minLength: 1, maxLength: 8 }))
  .map(([title, blocks]) => numbered({ type: "doc", content: [title, ...blocks] }));

/** Every `§` replaced by a marker word unique in the document: `q1z`, `q2z`, … */
export function numbered(doc: Json): Json {
  let n = 0;
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return value.includes("§") ? value.replace(/§/g, () => `q${++n}z`) : value;
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(doc) as Json;
}

/** The marker words in a document's text (not in attributes), in document order. */
export function textMarkers(doc: Json): string[] {
  const out: string[] = [];
  const walk = (node: Json) => {
    if (node.type === "text" && typeof node.text === "string") out.push(...(node.text.match(/q\d+z/g) ?? []));
    if (Array.isArray(node.content)) for (const child of node.content) walk(child as Json);
  };
  walk(doc);
  return out;
}

/** Every PostHog node type generated documents hold. */
export const POSTHOG_TYPES = [
  "ph-replay-timestamp",
  "ph-backlink",
  "ph-mention",
  "ph-query",
  "ph-recording",
  "ph-recording-playlist",
  "ph-feature-flag",
  "ph-feature-flag-code-example",
  "ph-experiment",
  "ph-early-access-feature",
  "ph-survey",
  "ph-cohort",
  "ph-person",
  "ph-group",
  "ph-image",
  "ph-embed",
  "ph-latex",
  "ph-python",
  "ph-hogql-sql",
  "ph-map",
  "ph-llm-trace",
  "ph-error-tracking-issue",
  "ph-dashboard-widget",
];

/** The document with marker word `from` replaced by `to` wherever it is (it is in one text). */
export function replaceMarker(doc: Json, from: string, to: string): Json {
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return value.split(from).join(to);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(doc) as Json;
}
