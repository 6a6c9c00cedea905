import { describe, expect, it } from "vitest";
import {
  depluralize,
  extractRecordingComments,
  filterNotebooks,
  lexemes,
  matchesContains,
  matchesSearch,
  orderNotebooks,
  parseContains,
  stem,
} from "../../src/sandbox/filters.js";
import type { StoredNotebook } from "../../src/sandbox/store.js";
import { sha256Hex } from "../../src/sandbox/util.js";

const doc = (...content: unknown[]) => ({ type: "doc", content });
const recording = (id: unknown) => ({ type: "ph-recording", attrs: { id } });
const stamp = (sessionRecordingId: unknown, playbackTime: unknown, text: string) => ({
  type: "paragraph",
  content: [
    { type: "ph-replay-timestamp", attrs: { playbackTime, sessionRecordingId } },
    { type: "text", text },
  ],
});
const contains = (content: unknown, value: string) => matchesContains(content, parseContains(value));

describe("depluralize", () => {
  it("follows PostHog's three rules", () => {
    expect(depluralize("recordings")).toBe("recording");
    expect(depluralize("queries")).toBe("query");
    expect(depluralize("recording")).toBe("recording");
    expect(depluralize("feature-flags")).toBe("feature-flag");
    expect(depluralize("")).toBeNull();
  });
});

describe("contains", () => {
  const withRecording = doc({ type: "paragraph" }, recording("abc-123"));
  const withNumericRecording = doc(recording(42));
  const withoutRecording = doc({ type: "paragraph", content: [{ type: "text", text: "hi" }] });

  it("target alone and target:true mean a top-level ph-<target> node exists", () => {
    expect(contains(withRecording, "recording")).toBe(true);
    expect(contains(withRecording, "recording:true")).toBe(true);
    expect(contains(withoutRecording, "recording")).toBe(false);
    expect(contains(withoutRecording, "recording:true")).toBe(false);
  });

  it("depluralizes the target", () => {
    expect(contains(withRecording, "recordings:true")).toBe(true);
    expect(contains(doc({ type: "ph-query", attrs: {} }), "queries")).toBe(true);
  });

  it("target:false means no such node", () => {
    expect(contains(withRecording, "recording:false")).toBe(false);
    expect(contains(withoutRecording, "recording:false")).toBe(true);
    expect(contains(null, "recording:false")).toBe(true);
  });

  it("only looks at top-level nodes", () => {
    const nested = doc({ type: "paragraph", content: [recording("abc-123")] });
    expect(contains(nested, "recording")).toBe(false);
  });

  it("target:<id> needs the node and some node with attrs.id equal to the match", () => {
    expect(contains(withRecording, "recording:abc-123")).toBe(true);
    expect(contains(withRecording, "recording:other")).toBe(false);
    // The id may sit on any top-level node, as long as a ph-recording exists too (PostHog's two filters).
    const split = doc(recording("x"), { type: "ph-person", attrs: { id: "abc-123" } });
    expect(contains(split, "recording:abc-123")).toBe(true);
    expect(contains(doc({ type: "ph-person", attrs: { id: "abc-123" } }), "recording:abc-123")).toBe(false);
  });

  it("parses an integer match as a number, as Python's int() would", () => {
    expect(contains(withNumericRecording, "recording:42")).toBe(true);
    expect(contains(withNumericRecording, "recording:042")).toBe(true);
    expect(contains(doc(recording("42")), "recording:42")).toBe(false);
    expect(parseContains("recording:+7")[0]).toMatchObject({ kind: "match", match: 7 });
    expect(parseContains("recording:1_000")[0]).toMatchObject({ kind: "match", match: 1000 });
    expect(parseContains("recording:4.2")[0]).toMatchObject({ kind: "match", match: "4.2" });
  });

  it("query:<shortId> checks attrs.query for a SavedInsightNode", () => {
    const insight = doc({
      type: "ph-query",
      attrs: { query: { kind: "SavedInsightNode", shortId: "aB3dE5fG" }, title: "x" },
    });
    expect(contains(insight, "query:aB3dE5fG")).toBe(true);
    expect(contains(insight, "query:other")).toBe(false);
    const table = doc({ type: "ph-query", attrs: { query: { kind: "DataTableNode", shortId: "aB3dE5fG" } } });
    expect(contains(table, "query:aB3dE5fG")).toBe(false);
    expect(contains(table, "query")).toBe(true);
  });

  it("replay-timestamp looks one level down, at sessionRecordingId", () => {
    const d = doc(stamp("sess-1", 1000, "comment"));
    expect(contains(d, "replay-timestamp")).toBe(true);
    expect(contains(d, "replay-timestamps:true")).toBe(true);
    expect(contains(d, "replay-timestamp:sess-1")).toBe(true);
    expect(contains(d, "replay-timestamp:sess-2")).toBe(false);
    expect(contains(d, "replay-timestamp:false")).toBe(false);
    expect(contains(doc({ type: "ph-replay-timestamp", attrs: {} }), "replay-timestamp")).toBe(false);
  });

  it("splits on commas and spaces and ANDs the clauses", () => {
    const both = doc(recording("r1"), {
      type: "ph-query",
      attrs: { query: { kind: "SavedInsightNode", shortId: "q1" } },
    });
    expect(contains(both, "recording:r1,query:q1")).toBe(true);
    expect(contains(both, "recording:r1 query:q1")).toBe(true);
    expect(contains(both, "recording:r1, query:q2")).toBe(false);
    expect(contains(both, "recording:true,person:false")).toBe(true);
    expect(parseContains(" , ,")).toEqual([]);
  });

  it("an empty match is a literal id check", () => {
    expect(contains(doc(recording("")), "recording:")).toBe(true);
    expect(contains(doc(recording("x")), "recording:")).toBe(false);
  });

  it("ignores anything after a second colon", () => {
    expect(parseContains("recording:abc:def")[0]).toMatchObject({ kind: "match", match: "abc" });
  });

  it("matches any ph-* node type, including unknown ones", () => {
    expect(contains(doc({ type: "ph-feature-flag", attrs: { id: 12 } }), "feature-flag:12")).toBe(true);
    expect(contains(doc({ type: "ph-markdown-notebook", attrs: {} }), "markdown-notebook")).toBe(true);
  });
});

describe("search", () => {
  it("stems plurals, -ing and -ed consistently", () => {
    expect(stem("notebooks")).toBe(stem("notebook"));
    expect(stem("running")).toBe(stem("runs"));
    expect(stem("recorded")).toBe(stem("recording"));
    expect(stem("queries")).toBe(stem("query"));
  });

  it("drops English stop words and is case-insensitive", () => {
    expect(lexemes("The Checkout IS broken")).toEqual([stem("checkout"), stem("broken")]);
    expect(matchesSearch("Checkout Funnel", null, "checkout")).toBe(true);
    expect(matchesSearch("Checkout Funnel", null, "CHECKOUTS")).toBe(true);
  });

  it("needs every word, all in the title or all in the text content", () => {
    expect(matchesSearch("weekly metrics", "signups by week", "weekly metrics")).toBe(true);
    expect(matchesSearch("weekly metrics", "signups by week", "signups")).toBe(true);
    expect(matchesSearch("weekly metrics", "signups by week", "metrics signups")).toBe(false);
    expect(matchesSearch(null, null, "anything")).toBe(false);
  });

  it("a query with only stop words (or nothing) matches nothing", () => {
    expect(matchesSearch("the notebook", "the", "the")).toBe(false);
    expect(matchesSearch("the notebook", "x", "")).toBe(false);
  });
});

function nb(over: Partial<StoredNotebook> & { seq: number }): StoredNotebook {
  return {
    id: `id-${over.seq}`,
    short_id: `s${over.seq}`,
    team_id: 1,
    title: null,
    content: null,
    text_content: null,
    version: 0,
    deleted: false,
    created_at: 1000,
    created_by: 1,
    last_modified_at: 1000,
    last_modified_by: 1,
    ...over,
  };
}

describe("order", () => {
  const a = nb({ seq: 1, title: "banana", last_modified_at: 3, created_at: 1 });
  const b = nb({ seq: 2, title: "Apple", last_modified_at: 1, created_at: 2 });
  const c = nb({ seq: 3, title: null, last_modified_at: 2, created_at: 3 });

  it("defaults to -last_modified_at", () => {
    expect(orderNotebooks([a, b, c], undefined).map((n) => n.seq)).toEqual([1, 3, 2]);
    expect(orderNotebooks([a, b, c], "").map((n) => n.seq)).toEqual([1, 3, 2]);
  });

  it("sorts ascending by a field name and descending with -, nulls last ascending", () => {
    expect(orderNotebooks([a, b, c], "created_at").map((n) => n.seq)).toEqual([1, 2, 3]);
    expect(orderNotebooks([a, b, c], "-created_at").map((n) => n.seq)).toEqual([3, 2, 1]);
    expect(orderNotebooks([a, b, c], "title").map((n) => n.seq)).toEqual([2, 1, 3]);
    expect(orderNotebooks([a, b, c], "-title").map((n) => n.seq)).toEqual([3, 1, 2]);
  });

  it("an unknown field is a 400 naming order, as in newer PostHog", () => {
    expect(() => orderNotebooks([a], "nope")).toThrowError(/Invalid order field "nope"/);
    expect(() => orderNotebooks([a], "-content")).toThrowError(/Invalid order field "content"/);
  });
});

describe("filterNotebooks", () => {
  const ctx = {
    callerUserId: 1,
    nowUs: Date.UTC(2024, 5, 15) * 1000,
    userUuid: (id: number) => `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
  };
  const mine = nb({
    seq: 1,
    created_by: 1,
    last_modified_by: 2,
    last_modified_at: Date.UTC(2024, 5, 14) * 1000,
  });
  const theirs = nb({
    seq: 2,
    created_by: 2,
    last_modified_by: 1,
    last_modified_at: Date.UTC(2024, 5, 1) * 1000,
  });

  it("user keeps the caller's notebooks whatever its value", () => {
    expect(filterNotebooks([mine, theirs], { user: "" }, ctx)).toEqual([mine]);
    expect(filterNotebooks([mine, theirs], { user: "anything" }, ctx)).toEqual([mine]);
  });

  it("created_by / last_modified_by take a user uuid, in any of Python's UUID spellings", () => {
    expect(filterNotebooks([mine, theirs], { created_by: ctx.userUuid(2) }, ctx)).toEqual([theirs]);
    expect(
      filterNotebooks([mine, theirs], { created_by: ctx.userUuid(2).replace(/-/g, "").toUpperCase() }, ctx),
    ).toEqual([theirs]);
    expect(filterNotebooks([mine, theirs], { last_modified_by: ctx.userUuid(2) }, ctx)).toEqual([mine]);
    expect(() => filterNotebooks([mine], { created_by: "not-a-uuid" }, ctx)).toThrowError(/server error/);
  });

  it("date_from / date_to are strict, on last_modified_at", () => {
    expect(filterNotebooks([mine, theirs], { date_from: "2024-06-10" }, ctx)).toEqual([mine]);
    expect(filterNotebooks([mine, theirs], { date_to: "2024-06-10" }, ctx)).toEqual([theirs]);
    expect(filterNotebooks([mine, theirs], { date_from: "2024-06-14" }, ctx)).toEqual([]);
    expect(filterNotebooks([mine, theirs], { date_from: "-7d" }, ctx)).toEqual([mine]);
    expect(filterNotebooks([mine, theirs], { date_from: "-30d", date_to: "-7d" }, ctx)).toEqual([theirs]);
  });

  it("ignores unknown and pagination parameters", () => {
    expect(filterNotebooks([mine, theirs], { limit: "1", offset: "3", foo: "bar" }, ctx)).toEqual([
      mine,
      theirs,
    ]);
  });
});

describe("extractRecordingComments", () => {
  const notebook = {
    short_id: "abc12345",
    title: "Investigation",
    content: doc(
      recording("rec-1"),
      stamp("rec-1", 83000, "Pay tapped twice"),
      stamp("rec-2", 1000, "other recording"),
      stamp("rec-1", null, "no playback time"),
      {
        type: "paragraph",
        content: [{ type: "ph-replay-timestamp", attrs: { playbackTime: 5, sessionRecordingId: "rec-1" } }],
      },
      {
        type: "paragraph",
        content: [
          { type: "ph-replay-timestamp", attrs: { playbackTime: 7, sessionRecordingId: "rec-1" } },
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
      stamp("rec-1", 0, "at zero"),
      { type: "bulletList", content: [stamp("rec-1", 9, "nested, ignored")] },
    ),
  };

  it("takes top-level two-child paragraphs whose first child points at the recording", () => {
    const comments = extractRecordingComments([notebook], "rec-1");
    expect(comments.map((c) => [c.timeInRecording, c.comment])).toEqual([
      [83000, "Pay tapped twice"],
      [0, "at zero"],
    ]);
    expect(comments[0]).toEqual({
      timeInRecording: 83000,
      comment: "Pay tapped twice",
      notebookShortId: "abc12345",
      notebookTitle: "Investigation",
      id: sha256Hex("abc12345-Investigation-Pay tapped twice-83000"),
    });
  });

  it("formats a null title the Python way in the id", () => {
    const untitled = { ...notebook, title: null };
    const [first] = extractRecordingComments([untitled], "rec-1");
    expect(first?.id).toBe(sha256Hex("abc12345-None-Pay tapped twice-83000"));
    expect(first?.notebookTitle).toBeNull();
  });

  it("skips notebooks that do not contain the recording node", () => {
    const noRecordingNode = { ...notebook, content: doc(stamp("rec-1", 1, "orphan comment")) };
    expect(extractRecordingComments([noRecordingNode], "rec-1")).toEqual([]);
    expect(extractRecordingComments([notebook], "rec-9")).toEqual([]);
  });

  it("keeps notebook order", () => {
    const second = { ...notebook, short_id: "zzz" };
    expect(extractRecordingComments([second, notebook], "rec-1").map((c) => c.notebookShortId)).toEqual([
      "zzz",
      "zzz",
      "abc12345",
      "abc12345",
    ]);
  });
});
