/**
 * Finding in a notebook's Markdown and showing an edit: the outline (headings outside code, with
 * offsets and sizes), literal and RE2 matches with their line's context and heading, patterns a
 * backtracking engine could not finish (answered all the same), and the diff of replacements.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { accountedTo, type CpuAccount } from "../../src/cpu-account.js";
import { editDiff } from "../../src/notebooks/edit-diff.js";
import {
  type FindSpec,
  findPassages,
  headingAt,
  LINE_STEPS,
  outlineOf,
  SEARCHES_AT_ONCE,
} from "../../src/notebooks/find.js";

const DOC = [
  "# Report",
  "",
  "Intro about retention.",
  "",
  "## Retention",
  "",
  "Weekly retention settled at 41 percent.",
  "",
  "```md",
  "# not a heading",
  "```",
  "",
  "### Detail",
  "",
  "More retention text here.",
  "",
  "## Next",
  "",
  "The end.",
].join("\n");

const spec = (find: string, extra: Partial<FindSpec> = {}): FindSpec => ({
  find,
  regex: false,
  context: 80,
  maxMatches: 20,
  from: 0,
  ...extra,
});

describe("outlineOf", () => {
  it("lists headings outside fenced code, with offsets at their lines and sizes to the next peer", () => {
    const outline = outlineOf(DOC);
    expect(outline.map((h) => [h.level, h.text])).toEqual([
      [1, "Report"],
      [2, "Retention"],
      [3, "Detail"],
      [2, "Next"],
    ]);
    for (const h of outline)
      expect(DOC.slice(h.offset).startsWith(`${"#".repeat(h.level)} ${h.text}`)).toBe(true);
    const [report, retention, detail, next] = outline;
    expect(report?.size).toBe(DOC.length);
    expect(retention?.size).toBe((next?.offset ?? 0) - (retention?.offset ?? 0));
    expect(detail?.size).toBe((next?.offset ?? 0) - (detail?.offset ?? 0));
    expect(next?.size).toBe(DOC.length - (next?.offset ?? 0));
  });

  it("reads closing hashes off, needs a space after the hashes, and finds none in plain text", () => {
    expect(outlineOf("## Title ##\n#hashtag\n####### seven").map((h) => h.text)).toEqual(["Title"]);
    expect(outlineOf("just text\n\nmore")).toEqual([]);
    expect(outlineOf("")).toEqual([]);
  });

  it("finds the heading a position is under", () => {
    const outline = outlineOf(DOC);
    expect(headingAt(outline, 0)?.text).toBe("Report");
    expect(headingAt(outline, DOC.indexOf("41 percent"))?.text).toBe("Retention");
    expect(headingAt(outline, DOC.indexOf("More retention"))?.text).toBe("Detail");
    expect(headingAt(outlineOf("x\n# A"), 0)).toBeUndefined();
  });
});

describe("findPassages", () => {
  it("finds text as written, with offsets into the Markdown, its heading and its line around it", async () => {
    const found = await findPassages(DOC, spec("retention"), outlineOf(DOC));
    expect(found.total).toBe(3);
    expect(found.matches.map((m) => DOC.slice(m.offset, m.offset + m.length))).toEqual([
      "retention",
      "retention",
      "retention",
    ]);
    const [first, second] = found.matches;
    expect(first?.heading).toEqual({ text: "Report", offset: 0 });
    expect(first?.passage).toBe("Intro about retention.");
    expect(second?.passage).toBe("Weekly retention settled at 41 percent.");
    expect(second?.passage.slice(second.at, second.at + 9)).toBe("retention");
    expect(second?.heading?.text).toBe("Retention");
    // Case matters, as it does for an edit's old_markdown.
    expect((await findPassages(DOC, spec("Retention"), outlineOf(DOC))).total).toBe(1);
  });

  it("keeps a passage to its line and to the context asked for, without splitting a surrogate pair", async () => {
    const line = `${"😀".repeat(20)}needle${"😀".repeat(20)}`;
    const found = await findPassages(`before\n${line}\nafter`, spec("needle", { context: 5 }), []);
    const passage = found.matches[0]?.passage ?? "";
    expect(passage).toContain("needle");
    expect(passage).not.toContain("\n");
    expect(passage.length).toBeLessThanOrEqual(6 + 2 * 6);
    expect(passage).toBe(passage.normalize()); // no lone surrogate would survive a round trip
    expect(Buffer.from(passage, "utf8").toString("utf8")).toBe(passage);
  });

  it("pages: matches before `from` are counted, not shown, and `next` says where the rest start", async () => {
    const text = Array.from({ length: 30 }, (_, i) => `item ${i}`).join("\n");
    const first = await findPassages(text, spec("item", { maxMatches: 10 }), []);
    expect(first.matches).toHaveLength(10);
    expect(first.total).toBe(30);
    expect(first.next).toBe(text.indexOf("item 10"));
    const later = await findPassages(text, spec("item", { maxMatches: 10, from: first.next ?? 0 }), []);
    expect(later.before).toBe(10);
    expect(later.matches[0]?.passage).toBe("item 10");
  });

  it("takes RE2 regular expressions, (?i) for any case, and skips empty matches", async () => {
    const found = await findPassages(DOC, spec("(?i)retention\\s+\\w+", { regex: true }), outlineOf(DOC));
    expect(found.matches.map((m) => DOC.slice(m.offset, m.offset + m.length))).toEqual([
      "retention settled",
      "retention text",
    ]);
    expect((await findPassages("abc", spec("x*", { regex: true }), [])).total).toBe(0);
    expect((await findPassages("a\nb", spec("^b$", { regex: true }), [])).total).toBe(1);
  });

  it("answers patterns that make backtracking engines take exponential time", async () => {
    const text = `${"a".repeat(10_000)}!`;
    expect((await findPassages(text, spec("(a+)+b", { regex: true }), [])).total).toBe(0);
    expect((await findPassages(text, spec("(a|aa)*c", { regex: true }), [])).total).toBe(0);
    expect((await findPassages(text, spec("(a*)*!", { regex: true }), [])).total).toBe(1);
  });

  it("bounds a pattern's cost: program size capped, matched within lines, long lines left out", async () => {
    await expect(findPassages("x", spec("[\\s\\S]{1000}Q", { regex: true }), [])).rejects.toThrow(
      /too costly to run here .* at most 100/,
    );
    await expect(findPassages("x", spec("a{500}", { regex: true }), [])).rejects.toThrow(/too costly/);
    // A match does not span lines, as with grep.
    expect((await findPassages("one\ntwo", spec("one\\ntwo", { regex: true }), [])).total).toBe(0);
    const long = `short hit\n${"x".repeat(20_001)} hit\nhit again`;
    const found = await findPassages(long, spec("hit", { regex: true }), []);
    expect(found.total).toBe(2);
    expect(found.skipped).toBe(1);
    // The same text as written is found everywhere.
    expect((await findPassages(long, spec("hit"), [])).total).toBe(3);
  });

  it("leaves out a line whose length times the pattern's size is over LINE_STEPS; a simpler pattern searches it", async () => {
    // One search of a line runs whole: `(?:a?){40}a{3}b` (86 steps) over 5,004 characters is
    // 430,000 steps (a line of 20,000 held the thread 40-90 ms).
    const line = `${"ab".repeat(2_500)}aaab`;
    const text = `${line}\nshort aaab`;
    const costly = await findPassages(text, spec("(?:a?){40}a{3}b", { regex: true }), []);
    expect(costly.skipped).toBe(1);
    expect(costly.matches.map((m) => m.offset)).toEqual([text.lastIndexOf("aaab")]);
    expect(costly.longestLine).toBe(Math.floor(LINE_STEPS / 86));
    const simple = await findPassages(text, spec("a{3}b", { regex: true }), []);
    expect(simple.skipped).toBe(0);
    expect(simple.matches.map((m) => m.offset)).toEqual([line.length - 4, text.lastIndexOf("aaab")]);
    expect(simple.longestLine).toBeGreaterThan(line.length);
  });

  it("says where a pattern stopped when its time ran out, and starts again there", async () => {
    const text = "alpha 1\nalpha 2\nalpha 3";
    const first = await findPassages(text, spec("alpha \\d", { regex: true, budgetMs: 0 }), []);
    expect(first.matches.map((m) => m.passage)).toEqual(["alpha 1"]);
    expect(first.stoppedAt).toBe(text.indexOf("alpha 2"));
    const rest = await findPassages(text, spec("alpha \\d", { regex: true, from: first.stoppedAt ?? 0 }), []);
    expect(rest.matches.map((m) => m.passage)).toEqual(["alpha 2", "alpha 3"]);
    expect(rest.stoppedAt).toBeNull();
  });

  it("keeps to its time inside a line too: a line whose matches cost its length squared is left out, counted", async () => {
    // Each match of `x*y|x` reads on to the line's end: 20,000 of them on one line of `x`s held
    // the server's thread 10-14 s. (9,999 of them: a line within LINE_STEPS for this pattern.)
    const text = `${"x".repeat(9_999)}\nx then y`;
    const found = await findPassages(text, spec("x*y|x", { regex: true, budgetMs: 50 }), []);
    expect(found.total).toBe(0);
    expect(found.skipped).toBe(1);
    expect(found.stoppedAt).toBe(10_000);
    const rest = await findPassages(text, spec("x*y|x", { regex: true, from: found.stoppedAt ?? 0 }), []);
    expect(rest.matches.map((m) => text.slice(m.offset, m.offset + m.length))).toEqual(["x", "y"]);
  });

  it("refuses what RE2 does not read (backreferences, lookaround), with what to do instead", async () => {
    await expect(findPassages("aa", spec("(a)\\1", { regex: true }), [])).rejects.toThrow(/RE2 syntax/);
    await expect(findPassages("aa", spec("a(?=a)", { regex: true }), [])).rejects.toThrow(/leave regex out/);
  });
});

describe("searches charged to one key", () => {
  // A clock that moves one millisecond each time it is read: a search's slices (SLICE_MS) end
  // after the same steps on any machine, however fast.
  let clock = 0;
  // Which search each slice's charge comes from.
  const searching = new AsyncLocalStorage<string>();
  const order: string[] = [];
  beforeEach(() => {
    order.length = 0;
    vi.spyOn(performance, "now").mockImplementation(() => {
      clock += 1;
      return clock;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const account = (): CpuAccount => ({ chargeCpu: () => order.push(searching.getStore() ?? "?") });
  const text = Array.from({ length: 200 }, (_, i) => `line ${i}`).join("\n");
  const search = (name: string, charged: CpuAccount | undefined, signal?: AbortSignal) =>
    searching.run(name, () =>
      accountedTo(charged, () =>
        findPassages(
          text,
          spec("line \\d+", { regex: true, budgetMs: 1e9, ...(signal ? { signal } : {}) }),
          [],
        ),
      ),
    );

  it("take turns: one search's slices, then the next one's, none interleaved", async () => {
    const key = account();
    const [a, b] = await Promise.all([search("A", key), search("B", key)]);
    expect(order.join("")).toMatch(/^A{5,}B{5,}$/);
    expect([a.total, b.total]).toEqual([200, 200]);
  });

  it("do not hold back another key's searches: their slices alternate", async () => {
    const [a, b] = await Promise.all([search("A", account()), search("B", account())]);
    expect(order.join("").match(/AB|BA/g)?.length ?? 0).toBeGreaterThan(4);
    expect([a.total, b.total]).toEqual([200, 200]);
  });

  it(`of all keys, ${SEARCHES_AT_ONCE} search at once: a third key's waits for one of them to end`, async () => {
    const [a, b, c] = await Promise.all([
      search("A", account()),
      search("B", account()),
      search("C", account()),
    ]);
    const slices = order.join("");
    // C's first slice comes after A's or B's last one.
    expect(slices.indexOf("C")).toBeGreaterThan(Math.min(slices.lastIndexOf("A"), slices.lastIndexOf("B")));
    expect([a.total, b.total, c.total]).toEqual([200, 200, 200]);
  });

  it("a waiting search whose call is given up searches nothing and lets the next one run", async () => {
    const key = account();
    const givenUp = new AbortController();
    const running = Promise.all([search("A", key), search("B", key, givenUp.signal), search("C", key)]);
    givenUp.abort();
    const [a, b, c] = await running;
    expect(order.join("")).toMatch(/^A{5,}BC{5,}$/);
    expect([a.total, b.total, b.stoppedAt, c.total]).toEqual([200, 0, 0, 200]);
  });
});

describe("editDiff", () => {
  const old = "# T\n\nfirst line\n\nsecond line\n\nthird line";

  it("shows each changed line with a line of context either side and unified line numbers", () => {
    const start = old.indexOf("second");
    const { diff, hunks } = editDiff(old, [{ start, end: start + 6, text: "2nd" }], 10_000);
    expect(hunks).toBe(1);
    expect(diff).toBe("@@ -4,3 +4,3 @@\n \n-second line\n+2nd line\n ");
  });

  it("puts nearby replacements in one hunk, far ones in their own, and counts added lines", () => {
    const text = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n");
    const at = (s: string) => text.indexOf(s);
    const { diff, hunks } = editDiff(
      text,
      [
        { start: at("line 2"), end: at("line 2") + 6, text: "two\nand a half" },
        { start: at("line 3"), end: at("line 3") + 6, text: "three" },
        { start: at("line 15"), end: at("line 15") + 7, text: "fifteen" },
      ],
      10_000,
    );
    expect(hunks).toBe(2);
    expect(diff.split("\n")).toEqual([
      "@@ -2,4 +2,5 @@",
      " line 1",
      "-line 2",
      "-line 3",
      "+two",
      "+and a half",
      "+three",
      " line 4",
      "@@ -15,3 +16,3 @@",
      " line 14",
      "-line 15",
      "+fifteen",
      " line 16",
    ]);
  });

  it("shows a long paragraph around what changed in it, not whole", () => {
    const long = `${"word ".repeat(400)}target ${"word ".repeat(400)}`;
    const start = long.indexOf("target");
    const { diff } = editDiff(long, [{ start, end: start + 6, text: "changed" }], 10_000);
    expect(diff.length).toBeLessThan(600);
    expect(diff).toContain("-…(");
    expect(diff).toMatch(/\n-.*target.*\n\+.*changed/);
  });

  it("stops at the size asked for, always showing the first hunk", () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n\n\n");
    const replacements = Array.from({ length: 100 }, (_, i) => {
      const start = text.indexOf(`line ${i}`);
      return { start, end: start + `line ${i}`.length, text: `LINE ${i}` };
    });
    const { hunks, shown } = editDiff(text, replacements, 200);
    expect(hunks).toBe(100);
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(10);
  });
});
